"""Markdown written by editors: plain formatting survives; scripts, raw HTML, images and unsafe
links never reach a page."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from procure.markdown import render_markdown

REL = 'rel="nofollow noopener noreferrer"'


def html(text: str | None) -> str:
    result = render_markdown(text)
    assert isinstance(result, Markup)  # already safe: templates must not escape it again
    return str(result)


@pytest.mark.parametrize("text", [None, ""])
def test_nothing_renders_as_nothing(text):
    assert html(text) == ""


def test_plain_formatting_is_kept():
    out = html("Some **bold**, _emphasis_ and `code`.\n\n- one\n- two\n\n1. first\n\n> quoted\n\n---\n\n"
               "```\nblock\n```")
    for tag in ("<strong>bold</strong>", "<em>emphasis</em>", "<code>code</code>", "<ul>", "<li>one</li>",
                "<ol>", "<blockquote>", "<hr>", "<pre><code>block\n</code></pre>"):
        assert tag in out


def test_a_top_level_heading_becomes_level_two():
    assert html("# The problem\n\nText") == "<h2>The problem</h2>\n<p>Text</p>\n"
    out = html("## Context\n\n### Detail")
    assert "<h2>Context</h2>" in out and "<h3>Detail</h3>" in out
    assert "<h1" not in html("# One\n\nTwo\n===")


@pytest.mark.parametrize("text", [
    "<script>alert(1)</script>",
    "Before\n\n<script>alert(1)</script>\n\nAfter",
    "```\n<script>alert(1)</script>\n```",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
])
def test_scripts_never_run(text):
    out = html(text).lower()
    assert "<script" not in out and "</script" not in out


@pytest.mark.parametrize("text", [
    '<b onclick="steal()">bold</b>',
    '<img src=x onerror="steal()">',
    '<a href="javascript:steal()">click</a>',
    '<iframe src="https://evil.example"></iframe>',
    '<div style="position:fixed">cover</div>',
    "line<br>break",
    "<!-- hidden -->",
])
def test_raw_html_is_shown_as_text_not_obeyed(text):
    out = html(text)
    assert "<b " not in out and "<img" not in out and "<iframe" not in out and "<div" not in out
    assert "<a " not in out and "<br" not in out and "<!--" not in out
    assert "&lt;" in out  # the editor sees what they typed, escaped


@pytest.mark.parametrize("text", [
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click][ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD4=)",
])
def test_script_links_are_removed(text):
    out = html(text).lower()
    assert 'href="javascript' not in out and 'href="vbscript' not in out and 'href="data' not in out


def test_links_of_other_schemes_lose_their_target():
    out = html("[file](ftp://example.org/file)")
    assert "href" not in out and ">file</a>" in out


@pytest.mark.parametrize("text, href", [
    ("[site](https://example.org/page)", "https://example.org/page"),
    ("[site](http://example.org)", "http://example.org"),
    ("[write](mailto:team@example.org)", "mailto:team@example.org"),
    ("<https://example.org>", "https://example.org"),
])
def test_safe_links_are_kept_with_nofollow(text, href):
    out = html(text)
    assert f'<a href="{href}" {REL}>' in out


def test_a_link_title_is_kept():
    assert html('[site](https://example.org "Our site")') == (
        f'<p><a href="https://example.org" title="Our site" {REL}>site</a></p>\n')


@pytest.mark.parametrize("text", [
    "![a chart](https://example.org/chart.png)",
    '![tracker](https://evil.example/pixel.gif "t")',
    "[![logo](https://example.org/logo.png)](https://example.org)",
])
def test_images_are_removed(text):
    out = html(text)
    assert "<img" not in out and "chart.png" not in out and "pixel.gif" not in out
    assert "logo.png" not in out
