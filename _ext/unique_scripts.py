"""Sphinx extension: drop repeated inline <script> blocks from each page.

With Sphinx 7.4, inline scripts that extensions register after the builder starts
(sphinx-thebe's `const THEBE_JS_URL = ...`, sphinx-togglebutton's selector) appear twice
in every page's <head>; the second `const` declaration throws "Identifier 'THEBE_JS_URL'
has already been declared" in the browser console. `make browser` checks for that.
"""


def _drop_repeated_inline_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for js in scripts:
        body = getattr(js, "attributes", {}).get("body")
        if not getattr(js, "filename", None) and body:
            if body in seen:
                continue
            seen.add(body)
        kept.append(js)
    context["script_files"] = kept


def setup(app):
    app.connect("html-page-context", _drop_repeated_inline_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
