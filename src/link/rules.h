/* SPDX-License-Identifier: MIT */
/*
 * The iptables rules behind the matching engine's filters: one rule per
 * filter in the mangle table's PREROUTING chain, sending what it matches to
 * NFQUEUE queue Q with --queue-bypass, and tagged with the comment
 * "anode:TAG:ID" so that it can be found and removed. Installing rules needs
 * privileges that the rest of the node does not (DESIGN §1).
 */
#ifndef LINK_RULES_H
#define LINK_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "link/match.h"

/* A tag: 1 to MATCH_TAG_MAX letters, digits, '-' and '_'. */
bool rules_tag_ok(const char *tag);
/* Add or delete the rule of filter id. 0, or a negative errno after
 * logging iptables' own words. */
int rules_add(const char *tag, unsigned id, uint16_t queue, const struct match_filter *f);
int rules_del(const char *tag, unsigned id, uint16_t queue, const struct match_filter *f);
/* Remove every rule tagged "anode:TAG:" (the filters' in mangle, the
 * servers' in nat): how many, or a negative errno. */
int rules_cleanup_stale(const char *tag);
/* A server's redirection: traffic to f's destination prefix, protocol (TCP
 * or UDP) and destination ports goes to address to (network order). */
int rules_dnat_add(const char *tag, unsigned id, const struct match_filter *f, uint32_t to);
int rules_dnat_del(const char *tag, unsigned id, const struct match_filter *f, uint32_t to);

#endif
