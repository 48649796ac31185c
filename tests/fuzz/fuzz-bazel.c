/* SPDX-License-Identifier: MIT */
/* Fuzz target: the bazel adapter's parse of captured query output (jsonproto or streamed_jsonproto,
 * told apart by the adapter itself). */
#include "projmodel/config.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        /* An explicit output_base keeps the adapter away from the user's cache directory. */
        const struct pm_config *cfg = pm_fuzz_config(
                "bazel", "{\"build_system\": \"bazel\", \"bazel\": {\"output_base\": \"ob\"}}\n");

        pm_fuzz_adapter(cfg, "query.json", data, size);
        return 0;
}
