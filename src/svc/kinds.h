/* SPDX-License-Identifier: MIT */
/*
 * The services room's EE kinds (kinds.c).
 */
#ifndef SVC_KINDS_H
#define SVC_KINDS_H

#include "ee/ee.h"

/* Packet modules (include/anode/module.h): packet (required), on a struct
 * an_pkt_ctx, with the soft state, time, log and packet helpers. */
extern const struct ee_kind svc_kind_module;
/* Custom probes (include/anode/module.h): probe (required), on a struct
 * an_probe_ctx, with the node's figures, soft state, time and log. */
extern const struct ee_kind svc_kind_probe;

#endif
