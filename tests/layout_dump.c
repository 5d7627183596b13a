/* layout_dump.c — prints agent/pylayout.c's entry for CPython 3.<argv[1]> in the
 * name=value format of layout_probe.c, for tests/check_layouts.sh to diff. */
#include "pylayout.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s MINOR\n", argv[0]);
        return 2;
    }
    char *end;
    long minor = strtol(argv[1], &end, 10);
    if (*argv[1] == '\0' || *end != '\0' || minor < 0 || minor > 1000) {
        fprintf(stderr, "layout_dump: bad minor version '%s'\n", argv[1]);
        return 2;
    }
    const pa_pylayout_t *l = pa_pylayout_for((int)minor);
    if (!l) {
        fprintf(stderr, "layout_dump: no layout for 3.%ld\n", minor);
        return 1;
    }
    printf("minor=%d\n", l->minor);
    printf("ts_frame=%d\n", l->ts_frame);
    printf("ts_cframe=%d\n", l->ts_cframe);
    printf("cf_current=%d\n", l->cf_current);
    printf("fr_code=%d\n", l->fr_code);
    printf("fr_back=%d\n", l->fr_back);
    printf("fr_lasti=%d\n", l->fr_lasti);
    printf("fr_is_entry=%d\n", l->fr_is_entry);
    printf("fr_owner=%d\n", l->fr_owner);
    printf("co_name=%d\n", l->co_name);
    printf("co_qualname=%d\n", l->co_qualname);
    printf("co_filename=%d\n", l->co_filename);
    printf("co_firstlineno=%d\n", l->co_firstlineno);
    printf("co_code_adaptive=%d\n", l->co_code_adaptive);
    printf("str_ascii_size=%d\n", l->str_ascii_size);
    printf("str_utf8=%d\n", l->str_utf8);
    printf("str_utf8_length=%d\n", l->str_utf8_length);
    printf("lasti_kind=%d\n", l->lasti_kind);
    printf("ts_c_recursion=%d\n", l->ts_c_recursion);
    printf("ts_py_recursion=%d\n", l->ts_py_recursion);
    printf("ts_tracing=%d\n", l->ts_tracing);
    printf("co_flags=%d\n", l->co_flags);
    printf("co_first_traceable=%d\n", l->co_first_traceable);
    printf("gen_state=%d\n", l->gen_state);
    printf("frame_owned_by_generator=%d\n", l->fr_owner >= 0 ? PA_FRAME_OWNED_BY_GENERATOR : -1);
    /* The agent uses one FRAME_OWNED_BY_CSTACK value for every version with owner. */
    printf("frame_owned_by_cstack=%d\n", l->fr_owner >= 0 ? PA_FRAME_OWNED_BY_CSTACK : -1);
    return 0;
}
