/* Victim: a library compiled against include/pyagent.h, as a C extension would be.
 * It must load and run with or without the agent preloaded. */
#include <pyagent.h>

int capi_work(int n)
{
    int available = pyagent_available();
    pyagent_mark_if("capi.start", "{\"n\": 3}");
    if (pyagent_region_begin)
        pyagent_region_begin("capi.loop");
    long long sum = 0;
    for (int i = 0; i < n; i++)
        sum += i;
    if (pyagent_counter_int)
        pyagent_counter_int("capi.sum", sum);
    pyagent_counter_if("capi.ratio", 0.5);
    if (pyagent_region_end)
        pyagent_region_end("capi.loop");
    return available;
}
