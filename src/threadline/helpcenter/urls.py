"""`/help/`: the public help center (docs/self-service.md, Help center). Names are `helpcenter:<name>`."""

from __future__ import annotations

from django.urls import path, re_path, register_converter

from threadline.helpcenter import sitemaps, views, views_forms


class LanguageConverter:
    regex = "[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(LanguageConverter, "lang")

app_name = "helpcenter"
CENTER = "help/<slug:center>/"
PAGE = CENTER + "<lang:language>/"

urlpatterns = [
    path("help/sitemap.xml", sitemaps.index_view, name="sitemap-index"),
    path("help/files/<str:key>/<str:filename>", views.file_view, name="file"),
    path(CENTER, views.center_root, name="root"),
    path(CENTER + "sitemap.xml", sitemaps.center_index_view, name="sitemap"),
    path(CENTER + "sitemap-<int:page>.xml", sitemaps.urlset_view, name="sitemap-page"),
    path(CENTER + "brand.css", views.brand_css, name="brand-css"),
    path(PAGE, views.home, name="home"),
    path(PAGE + "categories/<int:category_id>-<str:slug>/", views.category_view, name="category"),
    path(PAGE + "categories/<int:category_id>/", views.category_view, name="category-bare"),
    path(PAGE + "sections/<int:section_id>-<str:slug>/", views.section_view, name="section"),
    path(PAGE + "sections/<int:section_id>/", views.section_view, name="section-bare"),
    path(PAGE + "articles/<int:article_id>-<str:slug>/", views.article_view, name="article"),
    path(PAGE + "articles/<int:article_id>/", views.article_view, name="article-bare"),
    path(PAGE + "articles/<int:article_id>/feedback", views_forms.feedback_view, name="feedback"),
    path(PAGE + "search/", views.search_view, name="search"),
    path(PAGE + "contact/", views_forms.contact_view, name="contact"),
    re_path(r"^help/(?P<center>[-a-zA-Z0-9_]+)/(?P<rest>.*)$", views.anywhere_else),
]
