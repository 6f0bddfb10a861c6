"""Pseudonyms: keyed, stable, one per person whether named by id or handle; the secret stays secret."""

from __future__ import annotations

import logging
import os
import stat

import pytest
from conftest import FIXTURES

from flows.privacy.pseudonym import ENV_SECRET, SECRET_FILE, Pseudonymizer, SecretError, load_secret

SECRET = b"correct horse battery staple"


def test_secret_file_is_created_once_owner_only_and_reused(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_SECRET, raising=False)
    first = load_secret(tmp_path)
    path = tmp_path / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(first) == 64
    assert load_secret(tmp_path) == first


def test_environment_secret_wins_and_no_file_is_made(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_SECRET, "from-the-environment")
    assert load_secret(tmp_path) == b"from-the-environment"
    assert not (tmp_path / SECRET_FILE).exists()


def test_a_secret_others_can_read_is_refused_without_showing_it(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_SECRET, raising=False)
    secret = load_secret(tmp_path)
    os.chmod(tmp_path / SECRET_FILE, 0o644)
    with pytest.raises(SecretError, match="chmod 600") as caught:
        load_secret(tmp_path)
    assert secret.decode() not in str(caught.value)


def test_same_secret_same_pseudonym_other_secret_other_pseudonym():
    one, again, other = Pseudonymizer(SECRET), Pseudonymizer(SECRET), Pseudonymizer(b"another study")
    assert one.author("339428177") == again.author("339428177")
    assert one.author("339428177") != other.author("339428177")
    assert one.author("339428177").startswith("user_") and "339428177" not in one.author("339428177")
    assert one.author("339428177") != one.author("339428178")


def test_a_handle_and_its_id_are_one_person():
    p = Pseudonymizer(SECRET, {"DrMaya": "339428177"})
    assert p.handle("DrMaya") == p.handle("@drmaya") == p.author("339428177")
    assert p.author("@DrMaya") == p.author("339428177")  # an '@handle' id (data without ids)
    assert Pseudonymizer(SECRET).handle("DrMaya") == Pseudonymizer(SECRET).handle("DRMAYA")


def test_mentions_and_profile_links_in_text_are_replaced_emails_are_not():
    p = Pseudonymizer(SECRET, {"DrMaya": "339428177", "ana.bsky.social": "did:plc:ana"})
    me = p.author("339428177")
    out = p.text("RT @DrMaya: ask @ana.bsky.social, mail maya@uni.edu or see "
                 "https://twitter.com/DrMaya/status/1 and bsky.app/profile/did:plc:ana")
    assert out == (f"RT @{me}: ask @{p.author('did:plc:ana')}, mail maya@uni.edu or see "
                   f"https://twitter.com/{me}/status/{p.post('twitter', '1')} and "
                   f"bsky.app/profile/{p.author('did:plc:ana')}")
    assert p.text("read https://t.co/abc now @x", remove_urls=True) == f"read [URL] now @{p.handle('x')}"


@pytest.mark.parametrize("written", ["@DrMaya", ".@DrMaya", "RT@DrMaya", "RT:@DrMaya", "@DrMaya:", "(@drmaya)",
                                     "＠DrMaya", "@DrMaya.", "@DrMaya.Thanks", "https://x.com/DrMaya",
                                     "mobile.twitter.com/drmaya/status/77", "twitter.com/DrMaya/statuses/77"])
def test_every_mention_form_twitter_renders_is_replaced(written):
    p = Pseudonymizer(SECRET, {"DrMaya": "339428177"})
    out = p.text(f"thanks {written} for this")
    assert "drmaya" not in out.lower() and p.author("339428177") in out and "77" not in out


def test_bluesky_handles_dids_and_at_uris_are_replaced():
    p = Pseudonymizer(SECRET, {"ana.bsky.social": "did:plc:ana", "drmaya.example.org": "did:web:drmaya.example.org"})
    uri = "at://did:plc:ana/app.bsky.feed.post/3kabc"
    out = p.text(f"@ana.bsky.social and @DrMaya.example.org quoted {uri}; see did:plc:zzz and "
                 "https://bsky.app/profile/ana.bsky.social/post/3kabc")
    assert "ana" not in out and "drmaya" not in out.lower() and "did:" not in out and "at://" not in out
    assert p.post("bluesky", uri) in out and out.count(p.author("did:plc:ana")) == 2
    assert p.text("a reply to at://ana.bsky.social/app.bsky.actor.profile/self") == \
        f"a reply to at://{p.author('did:plc:ana')}/app.bsky.actor.profile/self"


def test_an_email_address_and_a_pseudonym_are_left_alone():
    p = Pseudonymizer(SECRET)
    assert p.text("mail maya@uni.edu, x@y") == "mail maya@uni.edu, x@y"
    once = p.text("hi @ben")
    assert p.text(once) == once  # a second pass changes nothing


def test_post_pseudonyms_map_back_with_the_secret_only(con, ingest_files):
    from flows.privacy.pseudonym import reveal_posts

    ingest_files(FIXTURES / "ingest" / "cross" / "page.jsonl")
    (platform, post_id), *_ = con.execute("SELECT platform, post_id FROM posts ORDER BY ALL").fetchall()
    hidden = Pseudonymizer(SECRET).post(platform, post_id)
    assert hidden.startswith("post_") and post_id not in hidden
    assert reveal_posts(con, SECRET, [hidden, "post_0000000000000000"]) == {
        hidden: (platform, post_id), "post_0000000000000000": None}
    assert reveal_posts(con, b"another secret", [hidden]) == {hidden: None}


def test_known_handles_for_one_call():
    p = Pseudonymizer(SECRET)
    assert p.text("hi @Ben", known_handles={"ben": "42"}) == f"hi @{p.author('42')}"


def test_the_secret_never_shows(caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    p = Pseudonymizer(SECRET, {"DrMaya": "1"})
    shown = [repr(p), str(p), p.author("1"), p.text("@DrMaya hi"), str(vars(p).keys())]
    logging.getLogger("flows").debug("pseudonymizer %r", p)
    for text in [*shown, caplog.text]:
        assert SECRET.decode() not in text and SECRET.hex() not in text


def test_store_pseudonymizer_ties_handles_to_ids(con, ingest_files):
    ingest_files(FIXTURES / "ingest" / "cross" / "page.jsonl")
    p = Pseudonymizer.for_store(con, SECRET)
    assert p.handle("ms3_avery") == p.author("1001") and p.handle("DrBlake_MD") == p.author("1002")
