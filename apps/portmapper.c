// SPDX-License-Identifier: MIT
/*
 * portmapper: binds port numbers to application links (PAN §4.8.3), so that
 * a code object can deliver to "port P at this node" instead of holding an
 * application link handle itself. Applications bind and release with
 * capsules (struct pm_msg, answered by delivery); other code objects look a
 * port up with an_call(portmapper, PM_LOOKUP, port). Only capsules that an
 * application inserted at this node may bind, and only the application that
 * bound a port may release it. Bindings live in soft state, so they are as
 * soft as the rest: a node may drop them, and applications bind again.
 */
#include "anode/node.h"
#include "proto.h"

AN_INLINE void port_key(struct an_key *k, uint32_t port)
{
	__builtin_memset(k, 0, sizeof(*k));
	*(uint32_t *)k->b = port;
}

/* The handle bound to port, or 0. Written without branches where it can
 * be: the validator walks every path, and paths double with each branch. */
AN_INLINE uint64_t bound_handle(uint32_t port)
{
	struct an_key k;
	struct an_val v = { 0 };
	port_key(&k, port);
	an_state_get(&k, &v); /* leaves v zero when the port is free */
	return *(uint64_t *)v.b;
}

AN_INLINE int64_t bind_port(uint32_t port, uint64_t handle)
{
	struct an_key k;
	struct an_val v = { 0 };
	port_key(&k, port);
	*(uint64_t *)v.b = handle;
	return an_state_put(&k, &v);
}

/* The next candidate for an ephemeral port, kept in soft state under key 0. */
AN_INLINE uint32_t next_candidate(void)
{
	struct an_key k;
	struct an_val v = { 0 };
	port_key(&k, 0);
	an_state_get(&k, &v);
	uint32_t next = *(uint32_t *)v.b;
	if (next < PM_EPHEMERAL_FIRST || next > 65535)
		next = PM_EPHEMERAL_FIRST;
	*(uint32_t *)v.b = next + 1;
	an_state_put(&k, &v);
	return next;
}

/* Bind the port asked for, or the next ephemeral one. -EADDRINUSE when it
 * is someone else's; for an ephemeral port that is taken, -EAGAIN: the
 * next request tries the next one (no loops in code objects; libanode
 * asks again). */
AN_INLINE int32_t do_bind(struct pm_msg *m, uint64_t handle)
{
	uint32_t port = m->port;
	int32_t busy = -98; /* EADDRINUSE */
	if (port == 0) {
		port = next_candidate();
		busy = -11; /* EAGAIN */
	}
	uint64_t h = bound_handle(port);
	if (h != 0 && h != handle)
		return busy;
	if (bind_port(port, handle) < 0)
		return -28; /* ENOSPC */
	m->port = port;
	return 0;
}

AN_ACCEPT int64_t portmapper_accept(struct an_ctx *ctx)
{
	if (ctx->origin != AN_ORIGIN_APP || ctx->data_len < sizeof(struct pm_msg))
		return -1; /* EPERM */
	struct pm_msg *m = (struct pm_msg *)an_data(ctx);
	uint64_t handle = ctx->applink;
	if (m->op == PM_BIND) {
		m->status = do_bind(m, handle);
	} else if (m->op == PM_RELEASE) {
		if (bound_handle(m->port) != handle) {
			m->status = -2; /* ENOENT */
		} else {
			struct an_key k;
			port_key(&k, m->port);
			an_state_del(&k);
			m->status = 0;
		}
	} else {
		m->status = -EINVAL;
	}
	return an_deliver(handle);
}

AN_CALL int64_t portmapper_call(struct an_ctx *ctx)
{
	if (ctx->call_op != PM_LOOKUP || ctx->call_arg == 0 || ctx->call_arg > 65535)
		return -EINVAL;
	uint64_t h = bound_handle((uint32_t)ctx->call_arg);
	return h ? (int64_t)h : -ENOENT;
}
