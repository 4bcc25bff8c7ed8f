"""The acceptance "a survey round-trip test for every channel kind through its real webhook format" kept true:
each kind in the channel registry names its round-trip test here, and that test exists. A new channel kind
fails this test until it gets one."""

from __future__ import annotations

from pathlib import Path

from threadline.channels.registry import kinds

HERE = Path(__file__).resolve().parent
ROUND_TRIPS = {
    "telegram": ("test_surveys_messaging.py", "test_telegram_csat_inline_keyboard_and_the_press_back"),
    "sms": ("test_surveys_messaging.py", "test_sms_nps_asks_for_a_number_and_the_bare_number_answers"),
    "whatsapp": ("test_surveys_whatsapp_widget.py", "test_whatsapp_csat_as_a_list_and_the_list_reply_back"),
    "webchat": ("test_surveys_whatsapp_widget.py", "test_widget_csat_buttons_and_the_socket_choice_back"),
    "email": ("test_surveys_email.py", "test_email_rating_link_get_confirms_post_records_and_a_replay_is_refused"),
    "line": ("test_surveys_line_messenger.py", "test_line_quick_reply_postbacks_and_the_postback_back"),
    "messenger": ("test_surveys_line_messenger.py", "test_messenger_quick_replies_and_the_payload_back"),
    "instagram": ("test_surveys_every_kind.py", "test_instagram_quick_replies_and_the_quick_reply_back"),
    "wechat": ("test_surveys_every_kind.py", "test_wechat_menu_message_and_the_bizmsgmenuid_back"),
    "portal": ("test_surveys_every_kind.py", "test_portal_rating_links_in_the_notification_and_the_portal_message"),
    "api": ("test_surveys_every_kind.py", "test_api_channel_gets_the_choices_only_when_the_survey_names_it"),
    "voice": ("test_surveys_voice.py", "test_csat_by_dtmf_after_the_agent_hangs_up"),
}


def test_every_channel_kind_has_a_survey_round_trip():
    assert sorted(ROUND_TRIPS) == kinds()
    missing = [f"{kind}: {name}" for kind, (file, name) in ROUND_TRIPS.items()
               if f"def {name}(" not in (HERE / file).read_text()]
    assert missing == []
