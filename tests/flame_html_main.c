/* flame_html_main.c — test tool: wraps a flame graph JSON file in the HTML page
 * (pa_flame_html), for the browser test. Usage: pa_flame_html_gen IN.json [OUT.html] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flamegraph_html.h"
#include "sbuf.h"

static int read_file(const char *path, pa_sbuf_t *sb)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    char buf[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        if (pa_sbuf_append(sb, buf, n) < 0) {
            rc = -ENOMEM;
            break;
        }
    if (!rc && ferror(f))
        rc = -EIO;
    fclose(f);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s IN.json [OUT.html]\n", argv[0]);
        return 2;
    }
    pa_sbuf_t in, html;
    pa_sbuf_init(&in);
    pa_sbuf_init(&html);
    int status = 1;
    int rc = read_file(argv[1], &in);
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", argv[1], strerror(-rc));
        goto out;
    }
    if (pa_flame_html(&html, in.buf, in.len) < 0) {
        fprintf(stderr, "pa_flame_html: out of memory\n");
        goto out;
    }
    FILE *f = argc == 3 ? fopen(argv[2], "wb") : stdout;
    if (!f) {
        fprintf(stderr, "%s: %s\n", argv[2], strerror(errno));
        goto out;
    }
    size_t w = fwrite(html.buf, 1, html.len, f);
    if ((f == stdout ? fflush(f) : fclose(f)) != 0 || w != html.len)
        fprintf(stderr, "%s: write failed\n", argc == 3 ? argv[2] : "stdout");
    else
        status = 0;
out:
    pa_sbuf_free(&in);
    pa_sbuf_free(&html);
    return status;
}
