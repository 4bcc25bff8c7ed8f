"""Single sign-on per workspace: OpenID Connect and SAML 2.0 identity providers, just-in-time agents, and the
option to require single sign-on for a workspace's members."""
