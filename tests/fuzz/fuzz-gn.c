/* SPDX-License-Identifier: MIT */
/* Fuzz target: the gn adapter's parse of captured `gn gen --ide=json` / `gn desc` JSON, with
 * optional <target>.ninja files ("@@FILE out/obj/a/a.ninja" sections) beside it. */
#include "projmodel/config.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const struct pm_config *cfg = pm_fuzz_config("gn", "{\"build_system\": \"gn\"}\n");

        pm_fuzz_adapter(cfg, "out/project.json", data, size);
        return 0;
}
