/* SPDX-License-Identifier: MIT */
/* Fuzz target: the cargo adapter's parse of captured `cargo metadata --format-version 1`. */
#include "projmodel/config.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const struct pm_config *cfg = pm_fuzz_config("cargo", "{\"build_system\": \"cargo\"}\n");

        pm_fuzz_adapter(cfg, "metadata.json", data, size);
        return 0;
}
