/* flamegraph_html.h — renders a flame graph JSON blob as one self-contained HTML page
 * (inline CSS and JS, no network access), viewable from file://. */
#ifndef PA_FLAMEGRAPH_HTML_H
#define PA_FLAMEGRAPH_HTML_H

#include <stddef.h>

#include "sbuf.h"

/* Appends to `out` a complete HTML page showing the flame graph in json_blob[0..len).
 *
 * The blob is embedded verbatim in a <script type="application/json"> element, except
 * that every '<' becomes \u003c, so no name or path in it can close the element or open
 * a comment; this is lossless for valid JSON, where '<' only occurs inside strings.
 * Expected shape: {"title": str, "events": [str], "unit": [str], "threads":
 * [{"name": str, "tid": int}], "stacks": [{"t": thread index, "f": [frame index,
 * outermost first], "v": [value per event]}], "frames": [str]}. Invalid JSON is not
 * detected here: the page then shows an error message instead of a graph.
 * json_blob may be NULL when len is 0 (the page then says there is no data).
 * The page reads view options from its URL hash: thread, event, search, zoom, view.
 *
 * @return 0, or -1 when out of memory (out->failed is then set and its content is
 *         truncated; the caller still owns and frees `out`). */
int pa_flame_html(pa_sbuf_t *out, const char *json_blob, size_t len);

#endif
