/* SPDX-License-Identifier: MIT */
/*
 * The concast room's EE kind (kind.c).
 */
#ifndef CONCAST_KIND_H
#define CONCAST_KIND_H

#include "ee/ee.h"

/* Concast merge specifications (include/anode/concast.h): get_tag, merge,
 * done and build (all required), on a struct an_merge_ctx, with the soft
 * state, time, log and mu-law helpers. */
extern const struct ee_kind concast_kind_merge;
enum { CONCAST_MERGE_GET_TAG, CONCAST_MERGE_MERGE, CONCAST_MERGE_DONE, CONCAST_MERGE_BUILD };

#endif
