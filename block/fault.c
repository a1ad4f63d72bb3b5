/* SPDX-License-Identifier: MIT */
/*
 * Failure injection for the tests of group snapshots: a registry's hook,
 * asked about each failure point of phase 1 (<qapikit/block-device.h>).
 */
#include "device-internal.h"

void block_registry_set_fault_hook(BlockDeviceRegistry *reg,
                                   BlockSnapshotFaultHook hook, void *opaque)
{
    reg->fault_hook = hook;
    reg->fault_opaque = opaque;
}

bool block_snapshot_fault(const BlockDeviceRegistry *reg,
                          BlockSnapshotFault fault, size_t index)
{
    return reg->fault_hook && reg->fault_hook(fault, index, reg->fault_opaque);
}
