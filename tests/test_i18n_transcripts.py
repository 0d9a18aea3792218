"""Transcripts and captions in any script: Chinese without spaces between words (search, the word said at
a moment, highlighting spans), Arabic right to left in WebVTT, English as before."""

from __future__ import annotations

import re

import pytest

from app.captions import MAX_CHARS, RLM, cues, to_webvtt, width
from app.extensions import db
from app.media.words import fold, gaps, join, right_to_left, word_at
from tests.factories import make_candidate, make_interview, make_media_answer, make_user

# As Whisper gives Chinese: characters and short runs, punctuation on the word before it.
CHINESE = ["我", "们", "每天", "在", "生产", "环境", "使用", "容器", "和", "Kubernetes", "。",
           "我", "负责", "部署", "，", "也", "写", "测试", "。"]
ARABIC = ["Python", "هي", "لغتي", "المفضلة", "منذ", "2019", "وأستخدمها", "كل", "يوم."]


def _timed(words: list[str], start: float = 2.0, step: float = 0.5) -> dict:
    timed = [{"word": w, "start": start + i * step, "end": start + i * step + 0.4}
             for i, w in enumerate(words)]
    return {"start": start, "end": timed[-1]["end"], "text": join(words), "words": timed}


def test_words_are_joined_as_their_script_is_written():
    assert join(["We", "run", "Kubernetes,", "daily."]) == "We run Kubernetes, daily."
    assert join(["Hello", ",", "world", "!"]) == "Hello, world!"
    assert join(CHINESE) == "我们每天在生产环境使用容器和Kubernetes。我负责部署，也写测试。"
    assert join(["ผม", "ชอบ", "เขียน"]) == "ผมชอบเขียน"  # Thai: no spaces either
    assert join(["저는", "개발자", "입니다"]) == "저는 개발자 입니다"  # Korean keeps its spaces
    assert join(ARABIC) == "Python هي لغتي المفضلة منذ 2019 وأستخدمها كل يوم."
    assert join([" leading", "", "  trailing  "]) == "leading trailing"


def test_every_character_of_the_text_maps_to_the_word_said_there():
    for words in (CHINESE, ARABIC, ["We", "run", "Kubernetes,", "daily."]):
        text = join(words)
        spans = gaps(words)
        assert "".join(w + g for w, g in zip(words, spans, strict=True)) == text
        for at, ch in enumerate(text):
            i = word_at(words, at)
            assert i is not None and (ch in words[i] or ch == " ")
        assert word_at(words, len(text)) is None
    assert CHINESE[word_at(CHINESE, join(CHINESE).index("容器"))] == "容器"
    assert CHINESE[word_at(CHINESE, join(CHINESE).index("境"))] == "环境"  # inside a two-character word


def test_chinese_captions_have_no_spaces_and_fit_a_line():
    seg = _timed(CHINESE * 3)
    found = cues([seg])
    assert len(found) >= 3
    for _start, _end, text in found:
        assert " " not in text.replace("Kubernetes", "")  # no spaces between Chinese characters
        assert width(text) <= MAX_CHARS  # about 21 Chinese characters
    assert "".join(text for *_t, text in found) == join(CHINESE * 3)  # nothing lost between cues
    starts = [start for start, *_rest in found]
    assert starts == sorted(starts)


def test_arabic_captions_are_marked_right_to_left_english_ones_are_not():
    vtt = to_webvtt([_timed(ARABIC), _timed(["We", "deploy", "daily."], start=9.0)])
    lines = vtt.split("\n")
    arabic = [line for line in lines if "لغتي" in line]
    assert arabic and all(line.startswith(RLM) for line in arabic)  # starts with "Python", still RTL
    english = [line for line in lines if "deploy" in line]
    assert english == ["We deploy daily."]
    assert right_to_left(join(ARABIC)) and not right_to_left("We deploy daily.")
    assert right_to_left("שלום עולם") and not right_to_left(join(CHINESE))


@pytest.fixture
def chinese_answer(app):
    owner = make_user(role="owner")
    interview = make_interview(owner, questions=1)
    interview.language = "zh"
    candidate, _ = make_candidate(interview)
    seg = _timed(CHINESE)
    transcript = {"language": "zh", "text": seg["text"], "segments": [seg]}
    make_media_answer(candidate, interview.questions[0], transcript=transcript)
    db.session.commit()
    return owner, interview, candidate


def test_chinese_transcript_search_finds_the_moment_of_the_word(login_as, chinese_answer):
    owner, interview, candidate = chinese_answer
    cc = login_as(owner)
    url = f"/interviews/{interview.public_id}/search"
    html = cc.get(f"{url}?q=容器").get_data(as_text=True)
    assert 'data-hits="1"' in html and "<mark>容器</mark>" in html
    q1 = interview.questions[0].public_id
    # "容器" is word 7, said at 2 + 7 * 0.5 = 5.5 s.
    assert f"/review/candidates/{candidate.public_id}?t=5.50#q-{q1}" in html
    # A match that starts inside a word ("境" of "环境", word 5) seeks to that word.
    html = cc.get(f"{url}?q=境使用").get_data(as_text=True)
    assert f"?t=4.50#q-{q1}" in html
    assert 'data-hits="0"' in cc.get(f"{url}?q=数据库").get_data(as_text=True)
    # Whisper writes Chinese in Traditional or Simplified characters: either finds the other.
    html = cc.get(f"{url}?q=環境").get_data(as_text=True)
    assert 'data-hits="1"' in html and "<mark>环境</mark>" in html and f"?t=4.50#q-{q1}" in html


def test_search_folds_case_and_chinese_scripts_character_for_character():
    assert fold("我們每天使用容器和 Kubernetes") == "我们每天使用容器和 kubernetes"
    assert fold("軟體工程師") == "软体工程师"
    for text in ("乾隆皇帝乾燥", "Ünïcödé ĞİŞ", "مرحبا Hello", join(CHINESE)):
        assert len(fold(text)) == len(text.lower())


def test_grader_page_spaces_words_as_the_script_is_written(login_as, chinese_answer):
    owner, _interview, candidate = chinese_answer
    html = login_as(owner).get(f"/review/candidates/{candidate.public_id}").get_data(as_text=True)
    paragraph = re.search(r'<p lang="zh" dir="auto">.*?</p>', html, re.S)
    assert paragraph, "the transcript paragraph names its language"
    spans = re.findall(r'<span class="w"[^>]*>([^<]*)</span>([^<]*)', paragraph.group(0))
    assert [w for w, _gap in spans] == CHINESE  # every word its own seekable span
    assert "".join(w + g for w, g in spans) == join(CHINESE)  # no spaces between Chinese characters


@pytest.mark.slow
def test_a_chinese_spoken_answer_is_transcribed_in_chinese_and_found_by_search(
        app, csrf_client, login_as, run_jobs, tmp_path):
    from app.models import Answer
    from app.states import AnswerStatus
    from app.storage import current_storage
    from tests.helpers import upload_answer
    from tests.media import CHINESE_WORD, chinese_webm

    app.config["WHISPER_MODEL"] = "base"  # multilingual (tiny.en knows English only)
    owner = make_user(role="owner")
    interview = make_interview(owner, questions=1)
    interview.language = "zh"
    db.session.commit()
    _candidate, token = make_candidate(interview)
    csrf_client.refresh(f"/i/{token}")
    receipt = upload_answer(csrf_client, token, interview.questions[0].public_id,
                            chinese_webm(tmp_path).read_bytes())
    assert csrf_client.post(f"/i/{token}/finish", json={}).status_code == 200
    run_jobs()
    db.session.expire_all()
    answer = db.session.execute(db.select(Answer).filter_by(public_id=receipt["answer_id"])).scalar_one()
    assert answer.status == AnswerStatus.READY, answer.failure_reason
    transcript = answer.transcript
    assert transcript["language"] == "zh"
    text = transcript["text"]
    assert CHINESE_WORD in text and " " not in text, text
    seg = next(s for s in transcript["segments"] if CHINESE_WORD in s["text"])
    said = seg["words"][word_at([w["word"] for w in seg["words"]], seg["text"].index(CHINESE_WORD))]["start"]
    cc = login_as(owner)
    html = cc.get(f"/interviews/{interview.public_id}/search?q={CHINESE_WORD}").get_data(as_text=True)
    assert 'data-hits="1"' in html and f"<mark>{CHINESE_WORD}</mark>" in html
    assert f"?t={said:.2f}#q-{interview.questions[0].public_id}" in html
    vtt = current_storage().get_bytes(answer.captions_key).decode()
    said_lines = [line for line in vtt.split("\n")[2:] if line and "-->" not in line and not line.isdigit()]
    assert "".join(said_lines) == text  # the captions say all of it, with no spaces added
