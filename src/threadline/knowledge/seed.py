"""Seeding a workspace's knowledge base at size for benchmarks and tests: a help center on the default brand, a
category and sections, and N published articles, each with a translation in every requested language (en, he,
fa, th, cs), written with `bulk_create` and indexed in bulk (no events). The texts are the same "how do I change
my …" article about twenty account topics, with a context that varies, so articles look alike and search has to
rank them. Not for production data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from threadline.core.time import now
from threadline.knowledge.models import (
    Article,
    ArticleTranslation,
    ArticleVersion,
    BodyFormat,
    Category,
    HelpCenter,
    Section,
    State,
)
from threadline.knowledge.rendering import slugify, to_html, to_text
from threadline.search.actions import do_index
from threadline.search.models import Kind
from threadline.tenancy.models import Brand, Workspace

LANGUAGES = ("en", "he", "fa", "th", "cs")
TOPICS: dict[str, list[str]] = {
    "en": ["delivery address", "payment method", "password", "email", "phone number", "invoice details",
           "subscription plan", "gift card balance", "notification settings", "language preference", "profile photo",
           "company name", "tax number", "shipping speed", "order note", "billing cycle", "two-factor login",
           "display name", "time zone", "newsletter subscription"],
    "he": ["כתובת המשלוח", "אמצעי התשלום", "הסיסמה", "הדואר האלקטרוני", "מספר הטלפון", "פרטי החשבונית",
           "תוכנית המנוי", "יתרת כרטיס המתנה", "הגדרות ההתראות", "שפת הממשק", "תמונת הפרופיל", "שם החברה",
           "מספר העוסק", "מהירות המשלוח", "הערת ההזמנה", "מחזור החיוב", "האימות הדו־שלבי", "שם התצוגה",
           "אזור הזמן", "ההרשמה לניוזלטר"],
    "fa": ["آدرس\u200cهای تحویل", "روش پرداخت", "رمز عبور", "ایمیل", "شماره تلفن", "مشخصات فاکتور", "طرح اشتراک",
           "موجودی کارت هدیه", "تنظیمات اعلان", "زبان برنامه", "عکس نمایه", "نام شرکت", "شناسه مالیاتی",
           "سرعت ارسال", "یادداشت سفارش", "دوره صورتحساب", "ورود دو مرحله\u200cای", "نام نمایشی", "منطقه زمانی",
           "اشتراک خبرنامه"],
    "th": ["ที่อยู่จัดส่ง", "วิธีการชำระเงิน", "รหัสผ่าน", "อีเมล", "หมายเลขโทรศัพท์", "ข้อมูลใบแจ้งหนี้",
           "แพ็กเกจสมาชิก", "ยอดเงินบัตรของขวัญ", "การแจ้งเตือน", "ภาษาของแอป", "รูปโปรไฟล์", "ชื่อบริษัท",
           "เลขประจำตัวผู้เสียภาษี", "ความเร็วในการส่ง", "หมายเหตุคำสั่งซื้อ", "รอบการเรียกเก็บเงิน",
           "การยืนยันตัวตนสองขั้นตอน", "ชื่อที่แสดง", "เขตเวลา", "จดหมายข่าว"],
    "cs": ["doručovací adresu", "platební metodu", "heslo", "e-mail", "telefonní číslo", "fakturační údaje",
           "předplatné", "zůstatek dárkové karty", "oznámení", "jazyk aplikace", "profilovou fotku", "název firmy",
           "DIČ", "rychlost dopravy", "poznámku k objednávce", "fakturační období", "dvoufázové ověření",
           "zobrazované jméno", "časové pásmo", "odběr newsletteru"],
}
TITLES = {
    "en": "How do I change my {topic}?",
    "he": "איך משנים את {topic}?",
    "fa": "چگونه {topic} را تغییر دهم؟",
    "th": "วิธีเปลี่ยน{topic}",
    "cs": "Jak změnit {topic}?",
}
BODIES = {
    "en": "You can change your {topic} from the account page{context}. Open **Settings**, choose {topic} and "
          "save.\n\nIf you need help with your {topic}, write to us and an agent will answer.",
    "he": "אפשר לשנות את {topic} בעמוד החשבון{context}. פותחים את **ההגדרות**, בוחרים ב{topic} ושומרים.\n\n"
          "אם צריך עזרה עם {topic}, כתבו לנו ונציג יענה.",
    "fa": "شما می\u200cتوانید {topic} خود را در صفحه حساب کاربری{context} تغییر دهید. **تنظیمات** را باز کنید، "
          "{topic} را انتخاب کنید و ذخیره کنید.\n\nاگر در مورد {topic} به کمک نیاز دارید، برای ما بنویسید.",
    "th": "คุณสามารถเปลี่ยน{topic}ได้ที่หน้าบัญชีของคุณ{context} เปิด**การตั้งค่า** เลือก{topic} แล้วกดบันทึก\n\n"
          "หากต้องการความช่วยเหลือเกี่ยวกับ{topic} เขียนถึงเราได้เลย",
    "cs": "Svou {topic} můžete změnit na stránce účtu{context}. Otevřete **Nastavení**, vyberte {topic} a "
          "uložte.\n\nPokud potřebujete pomoc, napište nám a odpoví vám operátor.",
}
CONTEXTS = {
    "en": ["", " on the website", " in the mobile app", " for a business account", " while an order is open"],
    "he": ["", " באתר", " באפליקציה", " בחשבון עסקי", " כשיש הזמנה פתוחה"],
    "fa": ["", " در وب\u200cسایت", " در برنامه موبایل", " برای حساب تجاری", " وقتی سفارشی باز است"],
    "th": ["", " บนเว็บไซต์", " ในแอปมือถือ", " สำหรับบัญชีธุรกิจ", " ขณะที่มีคำสั่งซื้อค้างอยู่"],
    "cs": ["", " na webu", " v mobilní aplikaci", " u firemního účtu", " když je objednávka otevřená"],
}
SECTION_TITLES = {"en": "Your account", "he": "החשבון שלך", "fa": "حساب شما", "th": "บัญชีของคุณ", "cs": "Váš účet"}
CATEGORY_TITLES = {"en": "Help", "he": "עזרה", "fa": "راهنما", "th": "ความช่วยเหลือ", "cs": "Nápověda"}


def article_text(language: str, n: int) -> tuple[str, str]:
    """The title and Markdown body of the n-th seeded article in `language` (topic n % 20, context n // 20)."""
    topics, contexts = TOPICS[language], CONTEXTS[language]
    topic, context = topics[n % len(topics)], contexts[(n // len(topics)) % len(contexts)]
    title = TITLES[language].format(topic=topic)
    if n >= len(topics) * len(contexts):
        title = f"{title} ({n})"
    body = BODIES[language].format(topic=topic, context=context)
    return title, body


@dataclass(frozen=True)
class Seeded:
    help_center: HelpCenter
    section: Section
    article_ids: list[int]
    translation_ids: list[int]


def _help_center(workspace: Workspace, languages: Sequence[str]) -> tuple[HelpCenter, Section]:
    brand = Brand.objects.filter(workspace=workspace).order_by("-is_default", "pk").first()
    if brand is None:
        brand = Brand.objects.create(workspace=workspace, name=workspace.name, is_default=True)
    help_center, _ = HelpCenter.objects.get_or_create(brand=brand, defaults={
        "workspace": workspace, "slug": workspace.slug[:64], "name": brand.name, "default_language": languages[0],
        "languages": list(languages)})
    category = Category.objects.filter(help_center=help_center).first() or Category.objects.create(
        workspace=workspace, help_center=help_center, titles=dict(CATEGORY_TITLES))
    section = Section.objects.filter(category=category).first() or Section.objects.create(
        workspace=workspace, category=category, titles=dict(SECTION_TITLES))
    return help_center, section


def seed_articles(workspace: Workspace, n: int, languages: Sequence[str] = LANGUAGES, *, batch: int = 500,
                  state: str = State.PUBLISHED) -> Seeded:
    """`n` articles with one translation per language (published by default), versions, and their search
    documents; in batches of `batch` articles, one transaction each."""
    languages = [code for code in languages if code in TOPICS]
    help_center, section = _help_center(workspace, languages)
    start = Article.objects.filter(workspace=workspace).count()
    article_ids: list[int] = []
    translation_ids: list[int] = []
    at = now()
    for first in range(start, start + n, batch):
        with transaction.atomic():
            numbers = range(first, min(first + batch, start + n))
            articles = Article.objects.bulk_create(
                [Article(workspace=workspace, section=section, position=i) for i in numbers])
            translations = []
            for article, i in zip(articles, numbers, strict=True):
                for language in languages:
                    title, body = article_text(language, i)
                    html = to_html(body, BodyFormat.MARKDOWN)
                    translations.append(ArticleTranslation(
                        workspace=workspace, article=article, language=language, title=title, slug=slugify(title),
                        body_source=body, body_format=BodyFormat.MARKDOWN, body_html=html, body_text=to_text(html),
                        state=state, published_at=at if state == State.PUBLISHED else None))
            translations = ArticleTranslation.objects.bulk_create(translations)
            ArticleVersion.objects.bulk_create([
                ArticleVersion(workspace=workspace, translation=t, number=1, title=t.title, body_source=t.body_source,
                               body_format=t.body_format) for t in translations])
            do_index(Kind.ARTICLE, [t.pk for t in translations])
        article_ids += [a.pk for a in articles]
        translation_ids += [t.pk for t in translations]
    return Seeded(help_center, section, article_ids, translation_ids)
