/* SPDX-License-Identifier: MIT */
/*
 * The concast room's counters (room.c registers the room with the node;
 * room_impl.h is what its files share).
 */
#ifndef CONCAST_ROOM_H
#define CONCAST_ROOM_H

#include "core/stat.h"

#define CONCAST_COUNTERS(X)                                                                   \
	X(rms_received, "requests for a merge specification received")                       \
	X(rms_sent, "requests for a merge specification sent toward a receiver")              \
	X(spec_msgs_received, "MS (merge specification) messages received")                  \
	X(spec_msgs_sent, "MS (merge specification) messages sent upstream")                  \
	X(spec_msgs_unexpected, "MS messages for no flow waiting, or not from downstream")    \
	X(keepalives_received, "keep-alives received from upstream")                          \
	X(keepalives_sent, "keep-alives sent downstream")                                     \
	X(errors_received, "errors received from downstream")                                 \
	X(errors_sent, "errors sent upstream")                                                \
	X(errors_unexpected, "errors for no flow here, or not from the flow's downstream node")                                       \
	X(bad_nonce, "merge specifications and errors that did not echo this node's nonce (off the path)")            \
	X(challenges_sent, "requests from a neighbour not yet upstream answered with a cookie to echo (no state kept)") \
	X(challenges_answered, "challenges to this node's requests answered (asked again with the cookie)")           \
	X(challenges_unexpected, "challenges for no flow asking here")                                                 \
	X(malformed, "concast messages that did not parse")                                   \
	X(flows_created, "flow state blocks created")                                         \
	X(flows_freed, "flow state blocks freed (no upstream left, errors, receiver gone)")   \
	X(pruned, "upstream neighbours pruned after missed keep-alives")                      \
	X(refused_flows, "flows refused at the flow limit")                                   \
	X(refused_pending, "flows refused: the asking address had as many waiting for their receivers as it may")     \
	X(paths_lost, "flows whose path toward their receiver was lost: no route any more (on IP); they wait")         \
	X(paths_restored, "flows whose lost path toward their receiver came back (told upstream, asked again)")       \
	X(paths_given_up, "flows ended after waiting 30 periods for a lost path toward their receiver")               \
	X(path_notices, "PATH messages (lost, restored) from downstream, passed on upstream")                       \
	X(refused_upstream, "upstream neighbours refused at the limit per flow")              \
	X(refused_admission, "upstream neighbours and senders refused: the receiver does not admit their address")   \
	X(refused_per_address, "upstream neighbours refused: their IP address held its share of the flow")            \
	X(refused_tags, "messages refused at the limit of tags in merge per flow")            \
	X(specs_installed, "merge specifications installed")                                  \
	X(specs_fetched, "merge specifications fetched from downstream")                      \
	X(specs_refused, "merge specifications refused (validation, kind, did not come)")     \
	X(app_joins, "senders' join requests")                                                \
	X(app_set_merges, "receivers' merge specifications set")                              \
	X(receivers_left, "receiving applications that left")                                 \
	X(data_no_flow, "messages for no flow here, or whose specification is not ready")     \
	X(data_not_member, "messages from a node not in the flow's upstream list")            \
	X(data_sent, "messages sent on toward a receiver")                                    \
	X(delivered, "merged messages delivered to the receiving application")                \
	X(deliver_failed, "merged messages the receiving application did not take")           \
	X(no_route, "merged messages with no route to the receiver")

struct concast_counters {
	CONCAST_COUNTERS(STAT_FIELD)
};

#endif
