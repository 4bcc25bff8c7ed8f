"""Built-in word lists for the five languages (en, he, fa, th, cs): what makes a post a question, a complaint,
praise, spam, abuse or trolling, the sentiment weight of words, and canonical topics.

Entries are written naturally and matched on the same analysis as search (`search.analysis.words`: NFKC,
casefold, Latin diacritics off, Hebrew prefixes stripped, Persian forms folded, Thai segmented). An entry of
several words matches them in a row; a trailing `*` matches any word beginning so (Czech and Persian endings,
English stems). Every list holds all five languages: a post's language is a hint, not a filter, because
public posts mix languages.
"""

from __future__ import annotations

# --- sentiment: word -> weight (-3 .. +3) -------------------------------------------------------------------
SENTIMENT: dict[str, float] = {
    # English
    "love": 3, "loved": 3, "amazing": 3, "awesome": 3, "excellent": 3, "fantastic": 3, "perfect": 3, "best": 2.5,
    "great": 2.5, "wonderful": 3, "thank*": 2, "thx": 2, "good": 1.5, "nice": 1.5, "happy": 2, "helpful": 2,
    "fast": 1, "quick": 1, "recommend*": 2, "impressed": 2, "brilliant": 3, "superb": 3, "kudos": 2,
    "bad": -2, "terrible": -3, "awful": -3, "horrible": -3, "worst": -3, "hate": -3, "angry": -2.5, "broken": -2,
    "disappoint*": -2.5, "useless": -2.5, "never arrived": -3, "not arrived": -2.5, "still waiting": -2,
    "ridiculous": -2.5, "unacceptable": -3, "scam": -3, "fraud": -3, "late": -1.5, "delay*": -1.5, "lost": -1.5,
    "wrong": -1.5, "refund": -1, "problem": -1.5, "issue": -1, "fail*": -2, "crash*": -2, "down": -1,
    "doesn t work": -2.5, "not working": -2.5, "does not work": -2.5, "slow": -1.5, "rude": -2.5, "nobody": -1,
    "third time": -2, "again": -0.5, "cancel*": -1, "damaged": -2.5, "missing": -1.5, "charged twice": -3,
    "overcharged": -3, "waste": -2.5, "joke": -1.5, "pathetic": -3, "annoy*": -2,
    # Hebrew
    "תודה": 2, "תודה רבה": 3, "מעולה": 3, "מעולים": 3, "אוהב": 3, "אוהבת": 3, "אוהבים": 3, "מדהים": 3, "מדהימה": 3,
    "מדהימים": 3, "טוב": 1.5, "טובה": 1.5, "נהדר": 3, "נהדרת": 3, "ממליץ": 2, "ממליצה": 2, "מהיר": 1, "מקצועי": 2,
    "אלופים": 3, "כל הכבוד": 3, "שירות מצוין": 3, "מצוין": 3,
    "גרוע": -3, "גרועה": -3, "גרועים": -3, "נורא": -3, "נוראי": -3, "זוועה": -3, "מאוכזב": -2.5, "מאוכזבת": -2.5,
    "לא הגיע": -3, "לא הגיעה": -3, "עדיין מחכה": -2, "עדיין מחכים": -2, "מאחר": -1.5, "באיחור": -1.5, "איחור": -1.5,
    "שבור": -2, "שבורה": -2, "תקלה": -2, "לא עובד": -2.5, "לא עובדת": -2.5, "בושה": -3, "חרפה": -3,
    "פעם שלישית": -2, "שוב": -0.5, "החזר": -1, "עוקץ": -3, "רמאים": -3, "כועס": -2.5, "כועסת": -2.5,
    # Persian
    "ممنون": 2, "مرسی": 2, "سپاس": 2, "متشکرم": 2, "عالی": 3, "عالیه": 3, "خوب": 1.5, "خوبه": 1.5, "دوست دارم": 3,
    "فوق العاده": 3, "فوقالعاده": 3, "بهترین": 2.5, "سریع": 1, "پیشنهاد میکنم": 2, "دمتون گرم": 3, "ایول": 2.5,
    "بد": -2, "افتضاح": -3, "افتضاحه": -3, "بدترین": -3, "خراب": -2, "خرابه": -2, "نرسید*": -3,
    "هنوز منتظرم": -2, "منتظرم": -1, "تاخیر": -1.5, "ناراضی": -2.5, "ناامید": -2.5, "کلاهبردار*": -3,
    "بار سوم": -2, "دوباره": -0.5, "کار نمیکنه": -2.5, "کار نمیکند": -2.5, "مشکل": -1.5, "بازپرداخت": -1,
    "عصبانی": -2.5, "شرم آور": -3, "مسخره": -2,
    # Thai
    "ขอบคุณ": 2, "ขอบคุณมาก": 3, "ดีมาก": 3, "ดี": 1.5, "เยี่ยม": 3, "ประทับใจ": 3, "ชอบ": 2, "รัก": 3,
    "สุดยอด": 3, "เร็ว": 1, "แนะนำ": 1.5, "บริการดี": 3,
    "แย่": -2.5, "แย่มาก": -3, "ห่วย": -3, "ไม่ได้รับ": -3, "ยังไม่ได้รับ": -3, "ช้า": -1.5, "ช้ามาก": -2.5,
    "เสีย": -2, "พัง": -2, "ผิดหวัง": -2.5, "โกง": -3, "ครั้งที่สาม": -2, "อีกแล้ว": -1, "ใช้ไม่ได้": -2.5,
    "ปัญหา": -1.5, "โมโห": -2.5, "คืนเงิน": -1,
    # Czech
    "děkuj*": 2, "díky": 2, "skvěl*": 3, "výborn*": 3, "super": 2.5, "perfektní": 3, "doporuč*": 2, "spokojen*": 2,
    "rychl*": 1, "dobr*": 1.5, "úžasn*": 3, "miluj*": 3,
    "špatn*": -2, "hrozn*": -3, "nejhorší": -3, "příšern*": -3, "nedorazil*": -3, "nepřišl*": -3, "stále čekám": -2,
    "pořád čekám": -2, "zpožd*": -1.5, "rozbit*": -2, "nefunguj*": -2.5, "zklam*": -2.5, "podvod*": -3,
    "potřetí": -2, "zase": -0.5, "znovu": -0.5, "problém*": -1.5, "reklamac*": -1.5, "naštvan*": -2.5,
    "ostuda": -3, "vrácení peněz": -1,
}

# Words that turn the next sentiment word around ("not good"); Thai ไม่ and Hebrew לא stand alone,
# Persian and Czech mostly negate inside the verb (those forms are in the lists above).
NEGATORS = frozenset({"not", "no", "never", "isn", "wasn", "don", "didn", "לא", "אין", "نه", "نیست", "ไม่", "ne", "není"})

# --- category cues --------------------------------------------------------------------------------------------
QUESTION_OPENERS = [  # a question when they open a sentence (or the post ends with "?")
    "how", "when", "where", "why", "what", "which", "who", "can", "could", "do", "does", "is", "are", "will",
    "איך", "מתי", "איפה", "למה", "מה", "יש", "אפשר", "כמה",
    "چطور", "چگونه", "کی", "کجا", "چرا", "چه", "میشه", "چقدر", "کدوم",
    "jak", "kdy", "kde", "proč", "co", "můžete", "lze", "kolik", "máte",
]
QUESTION_ANYWHERE = [  # a question wherever they stand (Thai sentence-final particles, "whether" words)
    "any update", "anyone know", "is there a way", "האם", "آیا", "ไหม", "มั้ย", "อย่างไร", "ยังไง", "เมื่อไหร่",
    "ที่ไหน", "ทำไม", "หรือเปล่า", "หรือยัง", "เท่าไหร่", "jestli", "zda",
]
COMPLAINT = [
    "never arrived", "not arrived", "hasn t arrived", "still waiting", "third time", "broken", "damaged", "refund",
    "not working", "doesn t work", "does not work", "worst", "unacceptable", "disappoint*", "charged twice",
    "overcharged", "wrong item", "missing", "complain*", "nobody answers", "no response", "cancel my",
    "לא הגיע", "לא הגיעה", "עדיין מחכה", "עדיין מחכים", "פעם שלישית", "שבור", "שבורה", "לא עובד", "לא עובדת",
    "החזר כספי", "תלונה", "גרוע", "גרועה", "מאוכזב", "מאוכזבת", "אף אחד לא עונה",
    "نرسید*", "هنوز منتظرم", "بار سوم", "خراب", "خرابه", "کار نمیکنه", "کار نمیکند", "بازپرداخت", "شکایت",
    "افتضاح", "ناراضی", "کسی جواب نمیده",
    "ไม่ได้รับ", "ยังไม่ได้รับ", "ครั้งที่สาม", "เสีย", "พัง", "ใช้ไม่ได้", "คืนเงิน", "ร้องเรียน", "ผิดหวัง",
    "แย่มาก", "ไม่มีใคร ตอบ",
    "nedorazil*", "nepřišl*", "stále čekám", "pořád čekám", "potřetí", "rozbit*", "nefunguj*", "reklamac*",
    "vrácení peněz", "stížnost", "zklam*", "nejhorší", "nikdo neodpovídá",
]
PRAISE = [
    "thank*", "thx", "love", "amazing", "awesome", "excellent", "great service", "fantastic", "kudos", "well done",
    "recommend*", "best", "perfect",
    "תודה", "אוהב", "אוהבת", "מדהים", "מדהימה", "מעולה", "מעולים", "כל הכבוד", "ממליץ", "ממליצה", "אלופים",
    "ممنون", "مرسی", "سپاس", "متشکرم", "عالی", "عالیه", "دمتون گرم", "ایول", "فوق العاده", "فوقالعاده",
    "ขอบคุณ", "ดีมาก", "เยี่ยม", "ประทับใจ", "สุดยอด", "บริการดี",
    "děkuj*", "díky", "skvěl*", "výborn*", "perfektní", "doporuč*", "úžasn*",
]
SPAM = [
    "free", "click", "win", "winner", "giveaway", "crypto", "bitcoin", "forex", "earn", "investment", "promo",
    "discount code", "follow back", "follow me", "check my", "dm me", "visit my", "cheap", "casino",
    "followers", "onlyfans", "loan", "profit",
    "חינם", "הגרלה", "לחצו", "קריפטו", "הכנסה", "קזינו", "עוקבים", "הלוואה",
    "رایگان", "کلیک", "برنده", "کریپتو", "بیت کوین", "درآمد", "فالوور", "کازینو", "وام", "سود",
    "ฟรี", "คลิก", "รางวัล", "คริปโต", "รายได้", "คาสิโน", "ผู้ติดตาม", "เงินกู้", "กำไร",
    "zdarma", "klikni*", "výhr*", "kryptoměn*", "výdělek", "kasino", "sledující", "půjčk*", "zisk",
]
ABUSE = [  # insults, slurs and threats: hide, never engage
    "idiot*", "stupid", "moron*", "fuck*", "shit*", "bitch*", "asshole*", "retard*", "kill you", "die",
    "מטומטם*", "אידיוט*", "זבל", "בן זונה", "תמות", "חרא",
    "احمق", "کثافت", "خفه شو", "بمیر", "عوضی", "آشغال",
    "ควาย", "โง่", "เหี้ย", "สัตว์", "ไปตาย",
    "idiot*", "debil*", "kretén*", "hovad*", "zmrd*", "chcípni", "kurv*",
]
TROLL = [  # mocking with nothing to act on: do not answer
    "lol", "lmao", "clowns", "clown", "joke company", "what a joke", "ratio", "cope", "nobody cares", "imagine buying",
    "ליצנים", "חחחח", "בדיחה", "למי אכפת",
    "دلقک", "خخخخ", "مسخره ها", "به کسی چه",
    "555", "ตัวตลก", "ขำ",
    "klauni", "šašci", "vtip", "koho to zajímá",
]

# --- canonical topics (crisis detection groups by these across languages) ------------------------------------
TOPICS: dict[str, list[str]] = {
    "delivery": ["deliver*", "shipping", "shipment", "arrived", "arrive", "package", "parcel", "courier", "tracking",
                 "משלוח", "שליח", "חבילה", "הגיע", "הגיעה", "ارسال", "پست", "بسته", "نرسید*", "رسید", "پیک",
                 "จัดส่ง", "ส่งของ", "พัสดุ", "ได้รับ", "ขนส่ง", "doruč*", "zásilk*", "balík*", "kurýr*",
                 "nedorazil*", "dorazil*", "nepřišl*"],
    "order": ["order*", "הזמנה", "הזמנתי", "سفارش*", "คำสั่งซื้อ", "สั่ง", "objedn*"],
    "billing": ["bill*", "charge*", "invoice", "payment", "paid", "card", "חיוב", "חשבונית", "תשלום", "שילמתי",
                "پرداخت", "صورتحساب", "کارت", "ชำระ", "เรียกเก็บ", "บัตร", "จ่ายเงิน", "platb*", "faktur*",
                "účtován*", "zaplatil*"],
    "refund": ["refund*", "money back", "החזר", "החזר כספי", "بازپرداخت", "پول", "คืนเงิน", "vrácení peněz", "vratk*"],
    "outage": ["outage", "down", "offline", "not loading", "crash*", "נפל", "קרס", "לא עובד", "قطع", "کار نمیکنه",
               "ล่ม", "ใช้ไม่ได้", "výpadek", "nefunguj*", "spadl*"],
    "account": ["account", "login", "log in", "password", "sign in", "locked", "חשבון", "סיסמה", "התחברות",
                "حساب", "رمز", "ورود", "บัญชี", "รหัสผ่าน", "เข้าสู่ระบบ", "účet", "účtu", "heslo", "přihlá*"],
    "quality": ["broken", "damaged", "defect*", "quality", "שבור", "שבורה", "פגום", "איכות", "خراب", "کیفیت",
                "เสีย", "พัง", "คุณภาพ", "rozbit*", "vadn*", "kvalit*"],
}
# Topics whose problems need the customer's own account or order: complaints about them go private.
ACCOUNT_TOPICS = frozenset({"delivery", "order", "billing", "refund", "account"})

URGENT = ["urgent", "asap", "emergency", "immediately", "lawyer", "sue", "police", "dangerous",
          "דחוף", "עורך דין", "משטרה", "فوری", "وکیل", "پلیس", "ด่วน", "ทนาย", "ตำรวจ", "urgentní", "ihned",
          "právník", "policie", "nebezpečn*"]
