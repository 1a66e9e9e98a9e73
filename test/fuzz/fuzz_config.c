/*
 * fuzz_config.c - libFuzzer target: any bytes as a server configuration:
 * server.properties syntax (escapes, continuations, comments) and YAML, each
 * then finalized (every value checked and the typed view built: listeners,
 * voters, log dirs, sizes).  Errors are the expected answer; any crash,
 * sanitizer report or assertion is a bug.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_one(const uint8_t *data, size_t size, bool yaml)
{
    struct config *cfg = NULL;
    if (config_create(&cfg) < 0)
        return;
    int rc = yaml ? config_load_yaml(cfg, (const char *)data, size, "fuzz")
                  : config_load_properties(cfg, (const char *)data, size, "fuzz");
    if (rc == 0)
        (void)config_finalize(cfg);
    config_destroy(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool quiet;
    if (!quiet) {
        log_set_level(LOG_OFF); /* unknown-key warnings would flood the run */
        quiet = true;
    }
    fuzz_one(data, size, false);
    fuzz_one(data, size, true);
    return 0;
}
