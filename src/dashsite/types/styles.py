"""Colours, class names and inline styles shared by every render type.

Class mode emits class names styled by :data:`STYLESHEET`; inline mode emits
``style`` attributes only, for email clients that drop ``<style>``.
"""

from __future__ import annotations

from dashsite.core.levels import StatusLevel

LEVEL_COLORS: dict[StatusLevel, str] = {
    StatusLevel.OK: "#1a7f37",
    StatusLevel.WARNING: "#9a6700",
    StatusLevel.ERROR: "#cf222e",
    StatusLevel.CRITICAL: "#82071e",
}
"""Foreground/background colours with at least 4.5:1 contrast against white."""

FONT_STACK = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
BORDER = "#d0d7de"
MUTED = "#57606a"
HEADER_BG = "#f6f8fa"


def style(**props: str) -> str:
    """``style(font_size="2em")`` → ``font-size:2em``; keeps call sites readable."""
    return ";".join(f"{name.replace('_', '-')}:{value}" for name, value in props.items())


CRITICAL_RING = "0 0 0 2px #ff8182"
"""Critical is darker than error; a bright ring keeps it the more alarming of the two."""


def badge_style(level: StatusLevel) -> str:
    """Inline style of a status badge."""
    extra = {"box_shadow": CRITICAL_RING} if level is StatusLevel.CRITICAL else {}
    return style(
        display="inline-block",
        padding="0.1em 0.6em",
        border_radius="1em",
        font_weight="600",
        font_size="0.85em",
        color="#ffffff",
        background_color=LEVEL_COLORS[level],
        **extra,
    )


TABLE_STYLE = style(border_collapse="collapse", font_family=FONT_STACK, font_size="14px")
CAPTION_STYLE = style(text_align="left", font_weight="600", padding="4px 0")
TH_STYLE = style(
    text_align="left", padding="6px 10px", border=f"1px solid {BORDER}", background=HEADER_BG
)
TD_STYLE = style(padding="6px 10px", border=f"1px solid {BORDER}", vertical_align="top")
NUMERIC = ";text-align:right;font-variant-numeric:tabular-nums"
"""Added to a numeric column's cells: figures line up."""
TITLE_STYLE = style(font_family=FONT_STACK, font_size="16px", margin="12px 0 4px")
KV_KEY_STYLE = style(
    font_weight="600", text_align="left", padding="2px 12px 2px 0", vertical_align="top"
)
KV_VALUE_STYLE = style(padding="2px 0", vertical_align="top")
LIST_STYLE = style(font_family=FONT_STACK, margin="4px 0", padding_left="1.5em")
METRIC_LABEL_STYLE = style(display="block", color=MUTED, font_size="13px")
MUTED_STYLE = style(color=MUTED, font_size="12px")


def metric_value_style(level: StatusLevel) -> str:
    """Inline style of a metric's big number, coloured by level (critical underlined)."""
    extra = {"text_decoration": "underline 3px #cf222e"} if level is StatusLevel.CRITICAL else {}
    return style(font_size="2.2em", font_weight="700", color=LEVEL_COLORS[level], **extra)


STYLESHEET = """\
.status-badge{display:inline-block;padding:.1em .6em;border-radius:1em;font-weight:600;
 font-size:.85em;color:#fff;white-space:nowrap}
.status-ok{background:#1a7f37}.status-warning{background:#9a6700}
.status-error{background:#cf222e}.status-critical{background:#82071e;box-shadow:0 0 0 2px #ff8182}
.monitor-table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
.monitor-table caption{text-align:left;font-weight:600;padding:.25rem 0}
.monitor-table th,.monitor-table td{padding:.35rem .65rem;border:1px solid var(--border,#d0d7de);
 text-align:left;vertical-align:top}
.monitor-table th{background:var(--subtle,#f6f8fa)}
.monitor-table .num{text-align:right;font-variant-numeric:tabular-nums}
.monitor-title{font-size:1rem;margin:.75rem 0 .25rem}
.monitor-kv{border-collapse:collapse}.monitor-kv th{text-align:left;padding:.15rem .75rem .15rem 0}
.monitor-kv td{padding:.15rem 0}
.monitor-metric{display:inline-block;margin:.25rem 1.5rem .25rem 0}
.metric-value{display:block;font-size:2.2em;font-weight:700;line-height:1.1}
.metric-label{display:block;color:var(--muted,#57606a);font-size:.85rem}
.metric-ok .metric-value{color:#1a7f37}.metric-warning .metric-value{color:#9a6700}
.metric-error .metric-value{color:#cf222e}
.metric-critical .metric-value{color:#82071e;text-decoration:underline 3px #cf222e}
.sparkline{display:inline-flex;align-items:center;gap:.4em}
.sparkline-text{color:var(--muted,#57606a);font-size:.8em}
.monitor-image{max-width:100%;height:auto}
.collector-error{border-left:4px solid #cf222e;padding:.25rem .75rem;background:rgba(207,34,46,.08)}
.chart{margin:.75rem 0;max-width:100%}.chart svg{max-width:100%;height:auto;display:block}
.chart figcaption{font-weight:600;margin:0 0 .25rem}
.chart details{font-size:.85rem;color:var(--muted,#57606a)}
.chart-framed{width:100%}
.chart-frame{display:grid;grid-template-columns:var(--gutter,0) minmax(0,1fr);
container-type:inline-size;font-size:12px;line-height:1.25;color:var(--muted,#57606a)}
.chart-y{grid-column:1;grid-row:1;position:relative}.chart-plot{grid-column:2;grid-row:1;position:relative}
.chart-x{grid-column:2;grid-row:2;position:relative;height:1.7em}
.chart-framed .chart-svg{display:block;width:100%;max-width:none}
.chart-y-label{position:absolute;right:6px;transform:translateY(-50%);white-space:nowrap}
.chart-x-label{position:absolute;top:.3em;transform:translateX(-50%);white-space:nowrap}
.chart-x-start{transform:none}.chart-x-end{transform:translateX(-100%)}
@container (max-width:34rem){.chart-x-label:nth-child(even){display:none}}
@container (max-width:17rem){.chart-x-label:nth-child(4n+3){display:none}}
.chart-marks,.chart-hits{position:absolute;inset:0}.chart-marks{pointer-events:none}
.chart-mark{position:absolute;top:6px;bottom:2px}
.chart-mark.status-warning{background:#9a6700}.chart-mark.status-error{background:#cf222e}
.chart-mark.status-critical{background:#82071e}
.chart-nodata{fill:var(--muted,#57606a);fill-opacity:.14}
.chart-nodata-note{position:absolute;top:2px;right:2px;display:flex;flex-direction:column;
align-items:flex-end;gap:1px}
.chart-nodata-note span{padding:0 .3em;border-radius:3px;white-space:nowrap;
background:var(--bg,#fff);color:var(--fg,#1f2328)}
.chart-hit{position:absolute;top:0;bottom:0;min-width:6px;outline-offset:-2px}
.chart-hit:hover,.chart-hit:focus{background:rgba(127,127,127,.18)}
.chart-tip{display:none;position:absolute;bottom:calc(100% + 4px);left:50%;
transform:translateX(-50%);width:max-content;max-width:14rem;z-index:3;pointer-events:none;
padding:.2rem .45rem;border-radius:4px;font-size:12px;background:var(--fg,#1f2328);
color:var(--bg,#fff)}
.chart-hit-start .chart-tip{left:0;transform:none}
.chart-hit-end .chart-tip{left:auto;right:0;transform:none}
.chart-hit:hover .chart-tip,.chart-hit:focus .chart-tip{display:block}
.chart-notes{font-size:12px;margin:.25rem 0;color:var(--muted,#57606a)}
.chart-key{display:inline-block;width:1.4em;border-top:2px solid var(--series,currentColor);
vertical-align:middle;margin-right:.3em}
.chart-key-threshold,.chart-key-annotation{border-top-style:dashed}
.chart-key.chart-warning{border-top-color:#9a6700}.chart-key.chart-error,.chart-key.chart-critical{border-top-color:#cf222e}
.panels{display:grid;gap:1rem;grid-template-columns:repeat(auto-fit,minmax(min(100%,22rem),1fr))}
.panel{min-width:0;border:1px solid var(--border,#d0d7de);border-radius:8px;padding:.75rem 1rem}
.panel>h2,.panel>h3{margin-top:0;font-size:1.05rem}
"""
"""The class-mode stylesheet of the render types (the theme adds its own)."""
