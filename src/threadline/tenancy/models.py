"""Workspaces, the people who work in them, their roles and teams, and API tokens."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from threadline.core.models import TimeStamped, WorkspaceScoped


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: an agent or admin of one or more workspaces."""

    email = models.EmailField(_("email"), unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=16, default="en")
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(auto_now_add=True)
    default_workspace = models.ForeignKey(
        "tenancy.Workspace", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("The workspace /app/ opens in when the session has not chosen one: the last one switched to"),
    )
    must_change_password = models.BooleanField(
        _("must set a new password"), default=False,
        help_text=_("Set by an admin's forced reset: the next sign-in must choose a new password first"),
    )
    session_epoch = models.PositiveIntegerField(
        default=0, help_text=_("Raised to end every session of the account without changing its password"),
    )

    objects = UserManager()
    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self) -> str:
        return self.email

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """Django's session hash (an HMAC of the password hash), with `session_epoch` mixed in once it was
        raised: every session (and agent socket) made before a forced reset stops matching, as after a
        password change. Epoch 0 keeps Django's own value, so existing sessions survive the upgrade."""
        if not self.session_epoch:
            return super()._get_session_auth_hash(secret=secret)
        key_salt = "threadline.tenancy.models.User.get_session_auth_hash"
        return salted_hmac(key_salt, f"{self.password}\0{self.session_epoch}", secret=secret,
                           algorithm="sha256").hexdigest()


class Workspace(TimeStamped):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(unique=True)
    default_region = models.CharField(
        _("default phone region"), max_length=2, default="US", help_text=_("ISO country for local numbers")
    )
    default_language = models.CharField(max_length=16, default="en")
    time_zone = models.CharField(max_length=64, default="UTC")
    languages = models.JSONField(default=list, blank=True)
    reopen_window_days = models.PositiveIntegerField(
        default=7, help_text=_("A solved conversation reopens when the customer writes within this many days.")
    )
    countries = models.JSONField(
        default=list, blank=True,
        help_text=_("ISO codes of the countries the workspace serves (whose national identifiers are redacted); "
                    "empty means the default phone region's"),
    )
    redact_pii = models.BooleanField(
        _("redact personal identifiers"), default=True,
        help_text=_("Mask payment cards, IBANs and national identifiers in inbound messages when they arrive"),
    )

    @property
    def country_codes(self) -> list[str]:
        return [str(c).upper() for c in (self.countries or [self.default_region])]

    def __str__(self) -> str:
        return self.name


class Brand(WorkspaceScoped):
    """How the workspace presents itself to customers under one name: logo, colours, the addresses replies are
    sent from (the workspace's own email addresses) and notes on the tone agents write in."""

    name = models.CharField(max_length=200)
    is_default = models.BooleanField(default=False)
    logo = models.FileField(upload_to="brands/", blank=True, help_text=_("PNG, JPEG, GIF or WebP; see tenancy.brands"))
    logo_content_type = models.CharField(max_length=32, blank=True)
    primary_color = models.CharField(_("primary colour"), max_length=7, default="#1d4ed8")
    accent_color = models.CharField(_("accent colour"), max_length=7, default="#e8efff")
    reply_from = models.JSONField(
        default=list, blank=True,
        help_text=_("Addresses replies of this brand are sent from: the workspace's email channel addresses, or "
                    "addresses in its verified domains"),
    )
    tone_notes = models.TextField(_("tone notes"), blank=True, help_text=_("How agents write for this brand"))

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    """The built-in roles (their grants are `permissions.GRANTS`). A membership's `role` is one of them, or
    CUSTOM_ROLE when `Membership.custom_role` holds its permissions."""

    ADMIN = "admin", _("Admin")
    AGENT = "agent", _("Agent")
    LIGHT_AGENT = "light_agent", _("Light agent")


BUILT_IN_ROLES = tuple(Role.values)
CUSTOM_ROLE = "custom"


class CustomRole(WorkspaceScoped):
    """A role a workspace defines: a name and the permission codes (`permissions.Permission`) it grants."""

    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=500, blank=True)
    permissions = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="uniq_custom_role_name")]

    def __str__(self) -> str:
        return self.name


class Membership(WorkspaceScoped):
    """A user's seat in a workspace: an agent, with a built-in role or (`role` = custom) a custom role."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=[*Role.choices, (CUSTOM_ROLE, _("Custom role"))],
                            default=Role.AGENT)
    custom_role = models.ForeignKey(CustomRole, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="members")
    is_active = models.BooleanField(default=True)
    last_seen_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Last request in this workspace (/app/ or the API), to the minute"),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="uniq_membership"),
            models.CheckConstraint(
                condition=models.Q(role=CUSTOM_ROLE, custom_role__isnull=False)
                | (~models.Q(role=CUSTOM_ROLE) & models.Q(custom_role__isnull=True)),
                name="membership_custom_role_iff_custom",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"

    @property
    def role_key(self) -> str:
        """The role as forms name it: a built-in role's name, or `custom:<id>`."""
        return f"{CUSTOM_ROLE}:{self.custom_role_id}" if self.custom_role_id else self.role

    @property
    def role_name(self) -> str:
        """The role's name to show: a custom role's own name, else the built-in role's label."""
        return self.custom_role.name if self.custom_role_id else str(self.get_role_display())


class Team(WorkspaceScoped):
    name = models.CharField(max_length=200)
    members = models.ManyToManyField(Membership, related_name="teams", blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="uniq_team_name")]

    def __str__(self) -> str:
        return self.name


class ApiToken(WorkspaceScoped):
    """A bearer token acting as one membership. Only the SHA-256 digest is stored."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=200, default="api")
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.membership})"


class LinkPurpose(models.TextChoices):
    SETUP = "setup", _("First password")
    RESET = "reset", _("Password reset")


class SetupLink(TimeStamped):
    """A one-time link to set a password: the first admin's (`setup`, when none was given in the environment),
    or a reset asked for by email (`reset`). Only the SHA-256 digest of the secret is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE)
    purpose = models.CharField(max_length=16, choices=LinkPurpose.choices, default=LinkPurpose.SETUP)
    digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


class Invitation(WorkspaceScoped):
    """An invitation to take a seat in a workspace, sent as a one-time link (only its digest is stored).

    The seat (`membership`) exists from the start but stays inactive until the link is used, so an invited
    person is listed (with their role, teams and routing profile) yet can neither sign in to the workspace
    nor be assigned work. Re-sending replaces the secret; revoking ends the link and removes the unused seat.
    """

    membership = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="invitations")
    email = models.EmailField()
    invited_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True, help_text=_("When the link was last mailed"))
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["membership", "accepted_at", "revoked_at"])]

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None

    def __str__(self) -> str:
        return f"invitation of {self.email}"
