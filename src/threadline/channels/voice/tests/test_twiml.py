"""Our TwiML equals what Twilio's own SDK builds for the same verbs (the SDK as an independent oracle)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from twilio.twiml.voice_response import Gather, Record, VoiceResponse

from threadline.channels.voice.twiml import TwiML


def canonical(xml: str) -> tuple:
    def walk(node: ET.Element) -> tuple:
        return node.tag, sorted(node.attrib.items()), (node.text or "").strip(), [walk(c) for c in node]

    return walk(ET.fromstring(xml))


def test_menu_step_matches_the_sdk():
    action = "https://support.example.com/hooks/voice/1/?step=choice&lang=he-IL&menu=main&retry=0"
    ours = (TwiML().say("שלום & ברוכים הבאים", "he-IL")
            .gather(action, [("להזמנות הקישו 1", "he-IL")], input="dtmf speech", numDigits=1, timeout=5,
                    speechTimeout="auto", language="he-IL", hints="הזמנה,חיוב")
            .redirect(action).render())
    sdk = VoiceResponse()
    sdk.say("שלום & ברוכים הבאים", language="he-IL")
    gather = Gather(action=action, method="POST", input="dtmf speech", num_digits=1, timeout=5,
                    speech_timeout="auto", language="he-IL", hints="הזמנה,חיוב")
    gather.say("להזמנות הקישו 1", language="he-IL")
    sdk.append(gather)
    sdk.redirect(action, method="POST")
    assert canonical(ours) == canonical(str(sdk))


def test_voicemail_and_queue_steps_match_the_sdk():
    ours = (TwiML().say("Please leave a message.", "en-US")
            .record("https://x.example/?step=voicemail_done", maxLength=120, playBeep=True, finishOnKey="#",
                    recordingStatusCallback="https://x.example/?step=recording", recordingStatusCallbackMethod="POST",
                    transcribe=True, transcribeCallback="https://x.example/?step=transcription")
            .enqueue("team-3", "https://x.example/?step=queue_result").hangup().render())
    sdk = VoiceResponse()
    sdk.say("Please leave a message.", language="en-US")
    sdk.append(Record(action="https://x.example/?step=voicemail_done", method="POST", max_length=120,
                      play_beep=True, finish_on_key="#", recording_status_callback="https://x.example/?step=recording",
                      recording_status_callback_method="POST", transcribe=True,
                      transcribe_callback="https://x.example/?step=transcription"))
    sdk.enqueue("team-3", action="https://x.example/?step=queue_result", method="POST")
    sdk.hangup()
    assert canonical(ours) == canonical(str(sdk))
