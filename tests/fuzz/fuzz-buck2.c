/* SPDX-License-Identifier: MIT */
/* Fuzz target: the buck2 adapter's parse of captured `buck2 targets --json` output, with the
 * .buckconfig it reads given as an "@@FILE .buckconfig" section of the input. */
#include "projmodel/config.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const struct pm_config *cfg = pm_fuzz_config("buck2", "{\"build_system\": \"buck2\"}\n");

        pm_fuzz_adapter(cfg, "targets.json", data, size);
        return 0;
}
