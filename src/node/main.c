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
#include "core/notify.h"
#include "node/node.h"
#include "node/room.h"
#include "priv/priv.h"
#ifdef ANODE_HOSTILE_CHILD
/* tests/priv: a test build whose node child attacks once it is dropped. */
#include "priv_hostile.h"
#endif

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
	      "Signals: SIGTERM and SIGINT stop the node cleanly. SIGHUP (systemctl reload)\n"
	      "reads the configuration and its policy again and puts them in force as a\n"
	      "whole: routes, limits, every directive a room can take while it runs, the\n"
	      "policy (instances its new grants no longer allow are stopped); or, when\n"
	      "anything does not load or cannot change without a restart (name, mode,\n"
	      "queue, user, listen, sockets, buffers, cache sizes, link-capacity, and\n"
	      "the directives a room sizes its state by), keeps the ones in force and\n"
	      "logs why. In router mode the privileged parent reads the files and hands\n"
	      "them to the node.\n",
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
	notify_state("STOPPING=1");
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
			 priv_seccomp_enabled() ? ", no_new_privs and its system call allow-list"
						: " and no_new_privs (no allow-list in a sanitizer build)");
#ifdef ANODE_HOSTILE_CHILD
		priv_hostile_arm(n);
#endif
	} else {
		/* An overlay node: its links and sockets are open. (A router
		 * node's parent says it, when the child's filter is in.) */
		char a[WIRE_ADDR_STRLEN];
		notify_state("READY=1\nSTATUS=overlay node %s on %s", cfg->name,
			     wire_addr_format(node_addr(n), a, sizeof(a)));
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

/* anoded --node-child FD: a router node's child, started by its parent
 * with fork and exec (a fresh address space: nothing of the parent's
 * memory). Its configuration and policy come over the socket pair FD, as
 * the parent read them; it reads no file of its own. */
static int node_child_main(int chan_fd, int udp_fd)
{
	char *text = NULL, err[512];
	size_t cfg_len = 0, policy_len = 0;
	int r = priv_child_config(chan_fd, &text, &cfg_len, &policy_len, err, sizeof(err));
	if (r < 0) {
		log_err("priv: node child: %s", err);
		return 1;
	}
	struct node_config cfg = {0};
	r = node_config_parse(text, cfg_len, "the parent's configuration", &cfg, err, sizeof(err));
	if (r == 0 && cfg.policy_path[0]) {
		cfg.policy_text = malloc(policy_len + 1);
		if (cfg.policy_text) {
			memcpy(cfg.policy_text, text + cfg_len, policy_len);
			cfg.policy_text[policy_len] = '\0';
			cfg.policy_len = policy_len;
		} else {
			r = -ENOMEM;
			snprintf(err, sizeof(err), "out of memory");
		}
	}
	free(text);
	struct priv_user u;
	if (r == 0)
		r = priv_user_lookup(cfg.user, &u, err, sizeof(err));
	if (r < 0) {
		log_err("priv: node child: %s", err);
		node_config_done(&cfg);
		return 1;
	}
	r = run_node(&cfg, udp_fd, chan_fd, &u);
	node_config_done(&cfg);
	return r;
}

/* The privileged parent's SIGHUP: the configuration file and its policy
 * read again and checked whole, as the node will take them. */
static int reread(void *arg, struct priv_texts *ret, char *err, size_t errlen)
{
	const struct node_config *started = arg; /* the configuration anoded started with */
	struct node_config nc = {0};
	char *text;
	size_t len;
	int r = node_file_read(started->config_path, &text, &len, err, errlen);
	if (r < 0)
		return r;
	r = node_config_parse(text, len, started->config_path, &nc, err, errlen);
	if (r == 0)
		r = node_config_read_policy(&nc, err, errlen);
	if (r < 0) {
		free(text);
		node_config_done(&nc);
		return r;
	}
	*ret = (struct priv_texts){.config = text, .config_len = len, .has_policy = nc.policy_text != NULL};
	snprintf(ret->policy_name, sizeof(ret->policy_name), "%s", nc.policy_path);
	if (nc.policy_text) {
		ret->policy = nc.policy_text;
		ret->policy_len = nc.policy_len;
		nc.policy_text = NULL;
	}
	node_config_done(&nc);
	return 0;
}

/* A file descriptor given on the command line: min..65535. */
static int parse_fd(const char *opt, const char *arg, long min, int *ret)
{
	char *end;
	long v = strtol(arg, &end, 10);
	if (*end || end == arg || v < min || v > 65535) {
		fprintf(stderr, "anoded: %s: not a file descriptor: %s\n", opt, arg);
		return -EINVAL;
	}
	*ret = (int)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'f'},
	    {"check", no_argument, NULL, 'n'},
	    {"debug", no_argument, NULL, 'd'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"udp-fd", required_argument, NULL, 'U'},
	    {"syslog", no_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    /* Not for people: how a router node's parent starts its child. */
	    {"node-child", required_argument, NULL, 'C'},
	    {NULL, 0, NULL, 0},
	};
	const char *config = NULL;
	bool check = false, use_syslog = false;
	int level = LOG_INFO, udp_fd = -1, child_fd = -1, c;
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
		case 'U':
			if (parse_fd("--udp-fd", optarg, 0, &udp_fd) < 0)
				return 2;
			break;
		case 'S':
			use_syslog = true;
			break;
		case 'C':
			if (parse_fd("--node-child", optarg, 3, &child_fd) < 0)
				return 2;
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
	if (child_fd >= 0 && !config && optind == argc) {
		log_init("anoded", level, use_syslog);
		log_set_timestamps(!use_syslog);
		signal(SIGPIPE, SIG_IGN);
		return node_child_main(child_fd, udp_fd);
	}
	if (!config || optind != argc) {
		usage(stderr);
		return 2;
	}
	struct node_config cfg = {0};
	char err[512], *cfg_text = NULL;
	size_t cfg_len = 0;
	/* The configuration and its policy are read here, once (in router
	 * mode by the process that stays root): the node child reads no
	 * file, and a reload reads both again in the same place. */
	if (node_file_read(config, &cfg_text, &cfg_len, err, sizeof(err)) < 0 ||
	    node_config_parse(cfg_text, cfg_len, config, &cfg, err, sizeof(err)) < 0 ||
	    node_config_read_policy(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "anoded: %s\n", err);
		free(cfg_text);
		node_config_done(&cfg);
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
		free(cfg_text);
		node_config_done(&cfg);
		return rc;
	}
	if (!cfg.have_listen && udp_fd < 0) {
		fprintf(stderr, "anoded: %s: no 'listen' address and no --udp-fd\n", config);
		free(cfg_text);
		node_config_done(&cfg);
		return 1;
	}
	log_init("anoded", level, use_syslog);
	log_set_timestamps(!use_syslog);
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
		const char *sockets[] = {cfg.app_path, cfg.ctl_path, NULL};
		/* The child is this program again (fork and exec), with the
		 * options that are not the configuration's. */
		char udp_arg[16];
		snprintf(udp_arg, sizeof(udp_arg), "%d", udp_fd);
		const char *child_args[8];
		size_t k = 0;
		if (udp_fd >= 0) {
			child_args[k++] = "--udp-fd";
			child_args[k++] = udp_arg;
		}
		if (level != LOG_INFO)
			child_args[k++] = level == LOG_DEBUG ? "-d" : "-q";
		if (use_syslog)
			child_args[k++] = "--syslog";
		child_args[k] = NULL;
		struct priv_parent_config pc = {
		    .tag = cfg.name,
		    .first_queue = (unsigned)cfg.queue,
		    .user = cfg.user,
		    .unlink_at_exit = sockets,
		    .config_text = cfg_text,
		    .config_len = cfg_len,
		    .policy_text = cfg.policy_text,
		    .policy_len = cfg.policy_len,
		    .reread = reread,
		    .child_args = child_args,
		    .keep_fd = udp_fd,
		    .arg = &cfg,
		};
		r = priv_parent_run(&pc);
	} else {
		r = run_node(&cfg, udp_fd, -1, NULL);
	}
	free(cfg_text);
	node_config_done(&cfg);
	return r;
}
