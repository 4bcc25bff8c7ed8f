from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "threadline.contacts"
    label = "contacts"
