// SPDX-License-Identifier: MIT
/*
 * Concast for applications (seed 001 §4.1): a sender joins a flow and
 * sends messages on it; a receiver sets the flow's merge specification at
 * its node and receives the merged messages (an_recv, with concast set).
 * The node does the signalling; these calls only ask it and wait for its
 * answer, keeping what else arrives meanwhile for an_recv.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "anode/anode.h"
#include "link_impl.h"

static bool is_status_of(const struct wire_applink *m, const void *flow)
{
	return m->type == WIRE_APP_CONCAST_STATUS && memcmp(&m->flow, flow, sizeof(m->flow)) == 0;
}

/* Wait for the node's STATUS about flow; 0 or its negative status (why in
 * l->refusal), -ETIMEDOUT. */
static int wait_status(struct an_link *l, const struct an_flow *flow, int timeout_ms, uint8_t ret_name[AN_NAME_LEN])
{
	struct wire_applink m;
	int r = link_await(l, timeout_ms, is_status_of, flow, &m);
	if (r < 0)
		return r;
	size_t tlen = m.body_len - WIRE_FLOW_LEN - AN_NAME_LEN;
	memcpy(l->refusal, m.body + WIRE_FLOW_LEN + AN_NAME_LEN, tlen);
	l->refusal[tlen] = '\0';
	if (ret_name && m.status == 0)
		memcpy(ret_name, m.code, AN_NAME_LEN);
	return m.status;
}

static int flow_request(struct an_link *l, uint8_t type, const struct an_flow *flow, const void *body, size_t len)
{
	uint8_t *b = l->out + WIRE_APPLINK_HDR_LEN;
	if (len > sizeof(l->out) - WIRE_APPLINK_HDR_LEN - WIRE_FLOW_LEN)
		return -EMSGSIZE;
	if (flow->group.port != 0 || flow->group.zero != 0 || flow->receiver.zero != 0)
		return -EINVAL;
	wire_flow_write(b, WIRE_FLOW_LEN, flow);
	if (len)
		memcpy(b + WIRE_FLOW_LEN, body, len);
	return link_send(l, type, b, WIRE_FLOW_LEN + len);
}

int an_concast_join(struct an_link *l, const struct an_flow *flow, int timeout_ms)
{
	l->refusal[0] = '\0';
	int r = flow_request(l, WIRE_APP_CONCAST_JOIN, flow, NULL, 0);
	return r < 0 ? r : wait_status(l, flow, timeout_ms, NULL);
}

int an_concast_set_merge(struct an_link *l, const struct an_flow *flow, const void *spec, size_t len,
			 uint8_t ret_name[AN_NAME_LEN])
{
	return an_concast_set_merge_admit(l, flow, spec, len, NULL, 0, ret_name);
}

int an_concast_set_merge_admit(struct an_link *l, const struct an_flow *flow, const void *spec, size_t len,
			       const struct an_prefix *admit, size_t n_admit, uint8_t ret_name[AN_NAME_LEN])
{
	l->refusal[0] = '\0';
	if (len == 0 || len > LINK_CODE_MAX)
		return -EFBIG;
	if (n_admit > AN_CONCAST_ADMIT_MAX || (n_admit && !admit))
		return -EINVAL;
	if (flow->group.port != 0 || flow->group.zero != 0 || flow->receiver.zero != 0)
		return -EINVAL;
	/* Composed in place: the flow, the admitted prefixes (a count, then
	 * each), the ELF (l->out has room for the most of each). */
	uint8_t *b = l->out + WIRE_APPLINK_HDR_LEN;
	wire_flow_write(b, WIRE_FLOW_LEN, flow);
	size_t off = WIRE_FLOW_LEN;
	b[off++] = (uint8_t)n_admit;
	for (size_t i = 0; i < n_admit; i++) {
		if (!wire_prefix_valid(&admit[i]))
			return -EINVAL;
		memcpy(b + off, admit[i].ip, sizeof(admit[i].ip));
		b[off + 16] = admit[i].len;
		off += WIRE_PREFIX_LEN;
	}
	memcpy(b + off, spec, len);
	int r = link_send(l, WIRE_APP_CONCAST_SET_MERGE, b, off + len);
	return r < 0 ? r : wait_status(l, flow, LINK_REPLY_TIMEOUT_MS, ret_name);
}

int an_concast_send(struct an_link *l, const struct an_flow *flow, const void *msg, size_t len)
{
	if (len > AN_CONCAST_MSG_MAX)
		return -EMSGSIZE;
	return flow_request(l, WIRE_APP_CONCAST_SEND, flow, msg, len);
}

int an_concast_leave(struct an_link *l, const struct an_flow *flow)
{
	int r = flow_request(l, WIRE_APP_CONCAST_LEAVE, flow, NULL, 0);
	return r < 0 ? r : wait_status(l, flow, LINK_REPLY_TIMEOUT_MS, NULL);
}

int an_flow_parse(const char *group, const char *receiver, uint32_t app_id, struct an_flow *ret)
{
	struct an_flow f;
	memset(&f, 0, sizeof(f));
	/* The group is an address without a port. */
	char g[64];
	if (strlen(group) + 3 > sizeof(g))
		return -EINVAL;
	snprintf(g, sizeof(g), strchr(group, ':') && group[0] != '[' ? "[%s]:1" : "%s:1", group);
	if (an_addr_parse(g, &f.group) < 0 || an_addr_parse(receiver, &f.receiver) < 0)
		return -EINVAL;
	f.group.port = 0;
	f.app_id = app_id;
	*ret = f;
	return 0;
}
