"""PDF of an agreement, with an embedded CJK TrueType font (text stays extractable).

reportlab embeds (subsets) TrueType fonts — TTF, or one face of a TTC — but not CFF/OpenType
outlines, so the font must be TrueType: by default WenQuanYi Micro Hei as shipped by the
``paperang-p2-fonts-cjk`` package (a project dependency); ``settings.XUEJI_PDF_FONT_PATH``
overrides it (and ``XUEJI_PDF_FONT_SUBFONT_INDEX`` picks the face of a .ttc). When no font file is
found, ``pdf_available()`` is False and pages offer the print view instead.
"""

import io
from functools import cache
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.html import escape

from students.models import mask_id_number

FONT_NAME = "XuejiCJK"


def _packaged_font() -> Path | None:
    try:
        import paperang_p2_fonts_cjk
    except ImportError:
        return None
    path = Path(paperang_p2_fonts_cjk.__file__).parent / "fonts" / "wqy-microhei.ttc"
    return path if path.exists() else None


def font_path() -> Path | None:
    """The TrueType CJK font file to embed, or None when it is missing."""
    configured = getattr(settings, "XUEJI_PDF_FONT_PATH", "")
    path = Path(configured) if configured else _packaged_font()
    return path if path is not None and path.is_file() else None


def pdf_available() -> bool:
    """True when a PDF can be made (the CJK font file exists)."""
    return font_path() is not None


@cache
def _register(path: str, index: int) -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    name = f"{FONT_NAME}-{abs(hash((path, index))) % 10**8}"
    pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index))
    return name


def facts_rows(agreement, *, full_id: bool) -> list[tuple[str, str]]:
    """The filled-in fields of a liability form as (label, value); the ID number masked unless ``full_id``."""
    if agreement.kind != "liability":
        return []
    facts = agreement.facts
    id_number = facts.get("身份证件号", "")
    return [
        ("学生姓名", facts.get("学生姓名", "")), ("性别", facts.get("性别", "")), ("民族", facts.get("民族", "")),
        ("出生日期", facts.get("出生日期", "")),
        (facts.get("身份证件类型") or "身份证件号", id_number if full_id else mask_id_number(id_number)),
        ("监护人", facts.get("监护人", "")), ("监护人电话", facts.get("监护人电话", "")),
        ("学校", facts.get("学校", "")), ("入学年份", facts.get("入学年份", "")),
    ]


def signature_rows(agreement) -> list[tuple[str, str, str]]:
    """(side label, signer and method, time) for each side, "未签署" where nobody signed yet."""
    signed = {s.party: s for s in agreement.signatures.all()}
    rows = []
    for party, label in (("a", agreement.party_a_label), ("b", agreement.party_b_label)):
        sig = signed.get(party)
        if sig is None:
            rows.append((label, "未签署", ""))
        else:
            who = f"{sig.signer_name}（{sig.get_method_display()}）"
            rows.append((label, who, timezone.localtime(sig.signed_at).strftime("%Y-%m-%d %H:%M")))
    return rows


def render_pdf(agreement, *, full_id: bool) -> bytes:
    """The agreement as PDF bytes (A4). Raises RuntimeError when no CJK font is available."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    path = font_path()
    if path is None:
        raise RuntimeError("CJK font missing")
    font = _register(str(path), getattr(settings, "XUEJI_PDF_FONT_SUBFONT_INDEX", 0))
    body = ParagraphStyle("body", fontName=font, fontSize=11, leading=18, wordWrap="CJK")
    title = ParagraphStyle("title", parent=body, fontSize=18, leading=26, alignment=1, spaceAfter=6)
    small = ParagraphStyle("small", parent=body, fontSize=9, leading=13, textColor=colors.grey)

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=agreement.title, author="学籍系统")
    story = [Paragraph(escape(agreement.title), title),
             Paragraph(f"{agreement.school_year}-{agreement.school_year + 1} 学年　编号 {agreement.pk}", small),
             Spacer(1, 4 * mm)]
    rows = facts_rows(agreement, full_id=full_id)
    if rows:
        table = Table([[Paragraph(escape(k), body), Paragraph(escape(v), body)] for k, v in rows],
                      colWidths=[35 * mm, 130 * mm])
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey)]))
        story += [table, Spacer(1, 4 * mm)]
    for paragraph in agreement.clauses.split("\n"):
        story.append(Paragraph(escape(paragraph) or "&nbsp;", body))
    story.append(Spacer(1, 8 * mm))
    sig_table = Table([[Paragraph(escape(a), body), Paragraph(escape(b), body), Paragraph(escape(c), body)]
                       for a, b, c in signature_rows(agreement)], colWidths=[50 * mm, 75 * mm, 40 * mm])
    sig_table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey)]))
    story += [sig_table, Spacer(1, 3 * mm),
              Paragraph(f"状态：{escape(agreement.get_status_display())}　"
                        f"有效期：{agreement.period_start:%Y-%m-%d} 至 {agreement.period_end:%Y-%m-%d}", small)]
    doc.build(story)
    return buf.getvalue()
