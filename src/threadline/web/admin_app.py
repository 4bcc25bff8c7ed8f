"""Django's admin app with the operator-only site (threadline.web.operator_admin) as `admin.site`; named in
INSTALLED_APPS instead of `django.contrib.admin`."""

from django.contrib.admin.apps import AdminConfig


class OperatorAdminConfig(AdminConfig):
    default_site = "threadline.web.operator_admin.OperatorAdminSite"
