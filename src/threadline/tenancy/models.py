"""Workspaces, the people who work in them, their roles and teams, and API tokens."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
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

    objects = UserManager()
    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self) -> str:
        return self.email


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
    ADMIN = "admin", _("Admin")
    AGENT = "agent", _("Agent")
    LIGHT_AGENT = "light_agent", _("Light agent")


class Membership(WorkspaceScoped):
    """A user's seat in a workspace: an agent. Light agents may read and add internal notes only."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="uniq_membership")]

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


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


class SetupLink(TimeStamped):
    """A one-time link that lets the first admin set a password when none was given in the environment."""

    user = models.ForeignKey(User, on_delete=models.CASCADE)
    digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
