// SPDX-License-Identifier: MIT
/*
 * anoded: the anode node daemon. Parses its command line and configuration
 * file, starts one node and runs it until SIGTERM or SIGINT.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "anode-config.h"
#include "core/log.h"
#include "node/node.h"
#include "node/room.h"
#include "priv/priv.h"

static void usage(FILE *f)
{
	fputs("Usage: anoded -f CONFIG [-n] [-d] [--udp-fd FD] [--syslog]\n"
	      "\n"
	      "Run one anode active network node: capsules that name eBPF code objects\n"
	      "arrive over UDP overlay links or from applications, run in the capsule\n"
	      "execution environment, and are forwarded, delivered or consumed.\n"
	      "\n"
	      "Options:\n"
	      "  -f, --config FILE  configuration file (see below); required\n"
	      "  -n, --check        check the configuration, print it back, and exit\n"
	      "  -d, --debug        log at debug level\n"
	      "  -q, --quiet        log warnings and errors only\n"
	      "      --udp-fd FD    use this already bound UDP socket (as `anode lab` does)\n"
	      "                     instead of binding the 'listen' address\n"
	      "      --syslog       log to syslog instead of stderr\n"
	      "  -h, --help         this text\n"
	      "  -V, --version      print the version\n"
	      "\n"
	      "Configuration: one directive per line, '#' starts a comment.\n",
	      f);
	/* The node's directives, then each room's, from their tables. */
	node_config_help(f);
	fputs("\n"
	      "Signals: SIGTERM and SIGINT stop the node cleanly. SIGHUP reads the policy\n"
	      "again: instances its new grants no longer allow are stopped; a policy that\n"
	      "does not load leaves the one in force.\n",
	      f);
}

static void signal_readable(void *arg, int fd, uint32_t events)
{
	struct node *n = arg;
	struct signalfd_siginfo si;
	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {
		node_reload(n);
		return;
	}
	log_info("signal %u: stopping", si.ssi_signo);
	loop_stop(node_loop(n));
}

/* Start one node and run it until SIGTERM or SIGINT (blocked by now). In a
 * router node's child, drop privileges once its sockets are open. */
static int run_node(const struct node_config *cfg, int udp_fd, int priv_fd, const struct priv_user *drop)
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	struct node *n = node_new(cfg, udp_fd, priv_fd);
	if (!n)
		return 1;
	int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0 || loop_fd_add(node_loop(n), sfd, EPOLLIN, signal_readable, n) < 0)
		fatal("signalfd: %s", strerror(errno));
	if (drop) {
		char err[256];
		if (priv_drop_node(drop, err, sizeof(err)) < 0) {
			log_err("priv: %s", err);
			node_free(n);
			close(sfd);
			return 1;
		}
		log_info("priv: node runs as %s with CAP_NET_ADMIN only%s", drop->name,
			 priv_seccomp_enabled() ? ", no_new_privs and its system call allow-list" :
						  " and no_new_privs (no allow-list in a sanitizer build)");
	}
	int r = node_run(n);
	node_free(n);
	close(sfd);
	if (r < 0) {
		log_err("node stopped: %s", strerror(-r));
		return 1;
	}
	return 0;
}

/* A router node's child (priv.h): the parent hands it the socket pair. */
struct child_args {
	const struct node_config *cfg;
	int udp_fd;
};

static int router_child(void *arg, int chan_fd)
{
	struct child_args *ca = arg;
	struct priv_user u;
	char err[256];
	if (priv_user_lookup(ca->cfg->user, &u, err, sizeof(err)) < 0) {
		log_err("priv: %s", err);
		return 1;
	}
	return run_node(ca->cfg, ca->udp_fd, chan_fd, &u);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'f' }, { "check", no_argument, NULL, 'n' },
		{ "debug", no_argument, NULL, 'd' },	    { "quiet", no_argument, NULL, 'q' },
		{ "udp-fd", required_argument, NULL, 'U' }, { "syslog", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },	    { "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL;
	bool check = false, use_syslog = false;
	int level = LOG_INFO, udp_fd = -1, c;
	while ((c = getopt_long(argc, argv, "f:ndqhV", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			config = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'd':
			level = LOG_DEBUG;
			break;
		case 'q':
			level = LOG_WARNING;
			break;
		case 'U': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 0 || v > 65535) {
				fprintf(stderr, "anoded: --udp-fd: not a file descriptor: %s\n", optarg);
				return 2;
			}
			udp_fd = (int)v;
			break;
		}
		case 'S':
			use_syslog = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("anoded %s\n", ANODE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!config || optind != argc) {
		usage(stderr);
		return 2;
	}
	struct node_config cfg;
	char err[512];
	if (node_config_load(config, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "anoded: %s\n", err);
		return 1;
	}
	if (check) {
		node_config_print(&cfg, stdout);
		/* What the rooms read besides their directives (the policy),
		 * as the node will read it. */
		int rc = 0;
		for (size_t i = 0; i < rooms_count(); i++) {
			const struct room *room = rooms_at(i);
			if (room->check && room->check(&cfg, cfg.room_cfg[i], stdout, err, sizeof(err)) < 0) {
				fprintf(stderr, "anoded: %s\n", err);
				rc = 1;
			}
		}
		node_config_done(&cfg);
		return rc;
	}
	if (!cfg.have_listen && udp_fd < 0) {
		fprintf(stderr, "anoded: %s: no 'listen' address and no --udp-fd\n", config);
		node_config_done(&cfg);
		return 1;
	}
	log_init("anoded", level, use_syslog);
	signal(SIGPIPE, SIG_IGN);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	int r;
	if (cfg.router) {
		/* Privilege separation: this process stays root for the rules,
		 * a child runs the node (src/priv). */
		if (geteuid() != 0) {
			log_err("router mode needs root (iptables and NFQUEUE)");
			node_config_done(&cfg);
			return 1;
		}
		struct child_args ca = { .cfg = &cfg, .udp_fd = udp_fd };
		const char *sockets[] = { cfg.app_path, cfg.ctl_path, NULL };
		struct priv_parent_config pc = {
			.tag = cfg.name,
			.first_queue = (unsigned)cfg.queue,
			.user = cfg.user,
			.unlink_at_exit = sockets,
			.policy_path = cfg.policy_path[0] ? cfg.policy_path : NULL,
			.child_main = router_child,
			.arg = &ca,
		};
		r = priv_parent_run(&pc);
	} else {
		r = run_node(&cfg, udp_fd, -1, NULL);
	}
	node_config_done(&cfg);
	return r;
}
