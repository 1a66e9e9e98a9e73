/*
 * fuzz_ctrl_frame.c - libFuzzer target: any bytes as what reaches a
 * controller from the network or its disk: a controller-listener frame body
 * (ControllerFrame, proto/quorum.proto, after the frame-version byte) and a
 * metadata payload (a MetadataBatch as the metadata log and snapshots hold
 * it) loaded into a fresh image with ctrl_snap_load, which applies every
 * record.  Any crash, sanitizer report or assertion is a bug: records that do
 * not fit the image must be skipped, never asserted on.
 */
#include <stddef.h>
#include <stdint.h>

#include "common/log.h"
#include "controller/ctrl_image.h"
#include "controller/ctrl_snap.h"
#include "quorum.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    log_set_level(LOG_OFF); /* garbage is expected: its log lines would only slow the run */
    Samsa__ControllerFrame *f = samsa__controller_frame__unpack(NULL, size, data);
    if (f)
        samsa__controller_frame__free_unpacked(f, NULL);
    struct ctrl_image *img = NULL;
    if (ctrl_image_create(&img) == 0) {
        (void)ctrl_snap_load(img, bytes_make(data, size), 0);
        ctrl_image_destroy(img);
    }
    return 0;
}
