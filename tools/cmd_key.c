// SPDX-License-Identifier: MIT
/*
 * anode key: Ed25519 key pairs for signing service requests (libsodium).
 * A key file holds the secret key and, for convenience, the public key
 * line that goes into a node's policy file.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "svc/policy.h"

static const char key_usage[] =
	"Usage: anode key gen [-o FILE] [--force]\n"
	"       anode key pub [FILE]\n"
	"\n"
	"Ed25519 keys for signing service requests (anode svc). 'gen' makes a new\n"
	"key pair, writes it to FILE (mode 0600; default $ANODE_KEY, else\n"
	"~/.config/anode/key; an existing file is kept unless --force) and prints\n"
	"the public key, the line an administrator puts in a node's policy:\n"
	"  user NAME ed25519:...\n"
	"'pub' prints the public key of a key file.\n";

const char *cli_key_default_path(char *buf, size_t len)
{
	const char *env = getenv("ANODE_KEY");
	if (env && *env)
		return env;
	const char *home = getenv("HOME");
	if (!home || !*home) {
		struct passwd *pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : "/";
	}
	snprintf(buf, len, "%s/.config/anode/key", home);
	return buf;
}

int cli_key_load(const char *path, uint8_t sk[64])
{
	FILE *f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "anode: key %s: %s (make one with 'anode key gen')\n", path, strerror(errno));
		return -errno;
	}
	char line[256];
	int r = -EINVAL;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "secret ", 7) != 0)
			continue;
		size_t n = strcspn(line + 7, "\r\n");
		size_t bin_len;
		if (sodium_base642bin(sk, 64, line + 7, n, NULL, &bin_len, NULL, sodium_base64_VARIANT_ORIGINAL) == 0 &&
		    bin_len == 64)
			r = 0;
		break;
	}
	fclose(f);
	sodium_memzero(line, sizeof(line));
	if (r < 0)
		fprintf(stderr, "anode: key %s: no 'secret BASE64' line of 64 octets\n", path);
	return r;
}

static int mkdir_parents(const char *path)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

static int key_gen(const char *path, bool force)
{
	uint8_t pk[32], sk[64];
	crypto_sign_keypair(pk, sk);
	char sk64[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(sk64, sizeof(sk64), sk, 64, sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(sk, sizeof(sk));
	char pub[POLICY_KEY_STRLEN];
	policy_key_format(pk, pub, sizeof(pub));
	if (mkdir_parents(path) < 0) {
		fprintf(stderr, "anode: cannot make the directory of %s: %s\n", path, strerror(errno));
		return 1;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL), 0600);
	if (fd < 0) {
		fprintf(stderr, "anode: %s: %s%s\n", path, strerror(errno),
			errno == EEXIST ? " (kept: use --force to replace it)" : "");
		return 1;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return 1;
	}
	fchmod(fd, 0600);
	fprintf(f, "# anode Ed25519 key: keep this file to yourself\nsecret %s\npublic %s\n", sk64, pub);
	sodium_memzero(sk64, sizeof(sk64));
	if (fclose(f) != 0) {
		fprintf(stderr, "anode: %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("%s\n", pub);
	return 0;
}

int cmd_key(const char *node, int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(key_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	char def[4096];
	const char *path = cli_key_default_path(def, sizeof(def));
	if (!strcmp(argv[1], "gen")) {
		bool force = false;
		for (int i = 2; i < argc; i++) {
			if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--out")) && i + 1 < argc)
				path = argv[++i];
			else if (!strcmp(argv[i], "--force"))
				force = true;
			else {
				fputs(key_usage, stderr);
				return 2;
			}
		}
		return key_gen(path, force);
	}
	if (!strcmp(argv[1], "pub")) {
		if (argc > 3) {
			fputs(key_usage, stderr);
			return 2;
		}
		if (argc == 3)
			path = argv[2];
		uint8_t sk[64], pk[32];
		if (cli_key_load(path, sk) < 0)
			return 1;
		crypto_sign_ed25519_sk_to_pk(pk, sk);
		sodium_memzero(sk, sizeof(sk));
		char pub[POLICY_KEY_STRLEN];
		policy_key_format(pk, pub, sizeof(pub));
		printf("%s\n", pub);
		return 0;
	}
	fprintf(stderr, "anode: key: unknown subcommand '%s'\n", argv[1]);
	fputs(key_usage, stderr);
	return 2;
}
