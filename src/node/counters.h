/* SPDX-License-Identifier: MIT */
/*
 * The node's counters, as one X-macro list so that the struct, the text
 * output and the JSON output cannot drift apart. Every packet that enters
 * the node ends in exactly one of: forwarded (at least one send), delivered
 * (only deliveries), consumed (the code kept or ended it), or a drop_*.
 */
#ifndef NODE_COUNTERS_H
#define NODE_COUNTERS_H

#include <stdint.h>

#define NODE_COUNTERS(X)                                                                   \
	X(received, "packets received from network links")                                 \
	X(injected, "capsules inserted by applications")                                   \
	X(looped, "capsules sent by code to this node itself")                             \
	X(runs, "capsule runs")                                                            \
	X(forwarded, "capsules sent on (one count per send)")                              \
	X(copied, "extra copies code made of a capsule (paid from its copy budget)")       \
	X(delivered, "deliveries to applications")                                         \
	X(consumed, "capsules that ended at this node without send or delivery")           \
	X(passed_unknown, "Type ID no room here handles, forwarded by default routing")    \
	X(code_inserted, "code objects inserted by applications")                          \
	X(code_carried, "code objects cached from capsules that carried them")             \
	X(code_fetched, "code objects loaded on demand")                                   \
	X(parked, "capsules parked while their code was fetched")                          \
	X(code_requests_served, "code requests answered from the cache")                   \
	X(code_chunks_served, "code chunks sent")                                          \
	X(code_requests_forwarded, "code requests passed on toward the code home")         \
	X(code_chunks_relayed, "code chunks relayed back to a node that asked through us") \
	X(code_chunks_unwanted, "code chunks nobody here asked for")                       \
	X(code_answers_capped, "code answers cut at 3x the octets of their request")       \
	X(drop_malformed, "malformed ANEP or capsule")                                     \
	X(drop_version, "ANEP version not 1")                                              \
	X(drop_option, "unknown option flagged must-know")                                 \
	X(drop_unknown_type, "Type ID no room here handles, flagged drop")                 \
	X(drop_hop_limit, "hop limit exhausted")                                           \
	X(drop_no_route, "no route to the destination")                                    \
	X(drop_code_missing, "code object not in the cache")                               \
	X(drop_code_bad, "code object failed validation")                                  \
	X(drop_code_timeout, "parked capsule whose code did not arrive in time")           \
	X(drop_code_mismatch, "parked capsule whose fetched code did not hash to its name")\
	X(drop_park_full, "no room to park a capsule while its code is fetched")          \
	X(drop_code_not_here, "code request for code this node does not have")             \
	X(drop_relay_full, "code request to pass on while every relay slot is taken")      \
	X(drop_code_error, "code returned an error")                                       \
	X(drop_applink_gone, "delivery to an application that has gone")                   \
	X(drop_applink_full, "delivery to an application that does not keep up")          \
	X(drop_no_buffer, "no packet buffer free")                                         \
	X(drop_too_big, "packet larger than a context holds")                               \
	X(drop_work_budget, "capsule that used up its work budget")                        \
	X(drop_buffer_share, "copy or self-send past its code object's share of buffers")\
	X(drop_concast, "concast message refused: no flow, not a member, or by the merge")

struct node_counters {
#define NODE_COUNTER_FIELD(name, help) uint64_t name;
	NODE_COUNTERS(NODE_COUNTER_FIELD)
#undef NODE_COUNTER_FIELD
};

#endif
