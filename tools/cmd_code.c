// SPDX-License-Identifier: MIT
/*
 * anode code: build code objects from restricted C, name them, insert them
 * into a node, list and remove what a node has cached. `build` also runs the
 * new object through the same validator the nodes use, so that code a node
 * would refuse is refused at the author's desk.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "concast/kind.h"
#include "svc/kinds.h"
#include "anode-config.h"
#include "cli.h"
#include "core/spawn.h"
#include "core/log.h"
#include "ee/ee.h"
#include "kern/kobj.h"
#include "anode/kernel.h"
#include <elf.h>

static void code_usage(FILE *f)
{
	fputs("Usage: anode code build FILE.c [-o FILE.ao] [--label LABEL] [--module|--probe|--merge] [-I DIR]...\n"
	      "                        [-D NAME[=VALUE]]... [-v]\n"
	      "       anode code name FILE.ao\n"
	      "       anode -n NODE code insert FILE.ao\n"
	      "       anode -n NODE code list [--json]\n"
	      "       anode -n NODE code remove NAME\n"
	      "\n"
	      "build   compile restricted C to an eBPF code object with clang, check it with\n"
	      "        the validator the nodes use, and print its name: the SHA-256 of the\n"
	      "        object's bytes. -o defaults to FILE.ao beside FILE.c; -v shows the\n"
	      "        validator's reasons when it refuses the code. --module checks it as a\n"
	      "        packet module, --probe as a custom probe (include/anode/module.h),\n"
	      "        --merge as a concast merge specification (include/anode/concast.h),\n"
	      "        instead of capsule code. --label gives the object a label for people\n"
	      "        (1 to 32 of A-Z a-z 0-9 . _ -; default: FILE without .c), which nodes\n"
	      "        show beside its name; it is in the object's bytes (anode/label.h), so\n"
	      "        it is part of the name.\n"
	      "name    print a code object's name.\n"
	      "insert  insert a code object into NODE's code cache and print its name.\n"
	      "list    one line per code object cached at NODE, most recently used first:\n"
	      "        its name, its label (- when it has none), size, runs, errors, soft\n"
	      "        state entries and time since it last ran; --json prints {\"code\":[{name,\n"
	      "        label or null, size, runs, errors, state_entries, idle_s}]}.\n"
	      "remove  evict a code object from NODE's cache (its fini runs).\n"
	      "\n"
	      "See docs/code-objects.md for the node interface code objects may use.\n",
	      f);
}

static void print_name(const uint8_t name[AN_NAME_LEN])
{
	char hex[65];
	ee_name_hex(name, hex);
	fputs(hex, stdout);
}

/* Validate like a node does: a throwaway EE whose environment answers
 * nothing, since no code runs here except init. */
static int env_route(void *node, const struct an_addr *dst, struct an_addr *ret_next)
{
	return -EHOSTUNREACH;
}
static bool env_alive(void *node, uint64_t handle)
{
	return false;
}
static int64_t env_info(void *node, uint64_t what)
{
	return -EINVAL;
}

/* Check code as a node would; why is filled with the refusal. */
static int validate(const void *code, size_t len, const struct ee_kind *kind, char *why, size_t why_len)
{
	struct ee_env env = {.route = env_route, .applink_alive = env_alive, .node_info = env_info};
	struct ee *ee = ee_new(&(struct ee_config){0}, &env);
	if (!ee)
		return -ENOMEM;
	uint8_t name[EE_NAME_LEN];
	int r = ee_code_insert_kind(ee, kind, code, len, name);
	snprintf(why, why_len, "%s", ee_last_refusal(ee));
	ee_free(ee);
	return r;
}

static const char *include_dir(void)
{
	struct stat st;
	if (stat(ANODE_SRC_INCLUDE "/anode/node.h", &st) == 0)
		return ANODE_SRC_INCLUDE;
	return ANODE_INSTALL_INCLUDE;
}

static bool label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '-';
}

static bool label_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > EE_LABEL_MAX)
		return false;
	for (; *s; s++)
		if (!label_char(*s))
			return false;
	return true;
}

/* The name of the function in section sec of an ELF object we just built
 * (the accept entry point's, for the kernel build's AN_KERNEL_ENTRY). */
static int entry_name(const uint8_t *b, size_t len, const char *sec, char *ret, size_t retlen)
{
	Elf64_Ehdr eh;
	if (len < sizeof(eh))
		return -EINVAL;
	memcpy(&eh, b, sizeof(eh));
	if (eh.e_shoff > len || (len - eh.e_shoff) / sizeof(Elf64_Shdr) < eh.e_shnum || eh.e_shstrndx >= eh.e_shnum)
		return -EINVAL;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(b + eh.e_shoff);
	if (sh[eh.e_shstrndx].sh_offset > len || sh[eh.e_shstrndx].sh_size > len - sh[eh.e_shstrndx].sh_offset)
		return -EINVAL;
	const char *names = (const char *)b + sh[eh.e_shstrndx].sh_offset;
	size_t idx = 0;
	for (size_t i = 1; i < eh.e_shnum; i++)
		if (sh[i].sh_name < sh[eh.e_shstrndx].sh_size && strcmp(names + sh[i].sh_name, sec) == 0)
			idx = i;
	for (size_t i = 1; idx && i < eh.e_shnum; i++) {
		if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh.e_shnum || sh[i].sh_offset > len ||
		    sh[i].sh_size > len - sh[i].sh_offset)
			continue;
		const Elf64_Shdr *str = &sh[sh[i].sh_link];
		if (str->sh_offset > len || str->sh_size > len - str->sh_offset)
			continue;
		const Elf64_Sym *sym = (const Elf64_Sym *)(b + sh[i].sh_offset);
		for (size_t k = 0; k < sh[i].sh_size / sizeof(*sym); k++)
			if (sym[k].st_shndx == idx && ELF64_ST_TYPE(sym[k].st_info) == STT_FUNC &&
			    sym[k].st_name < str->sh_size) {
				snprintf(ret, retlen, "%s", (const char *)b + str->sh_offset + sym[k].st_name);
				return 0;
			}
	}
	return -ENOENT;
}

/*
 * The kernel section (docs/kernel.md): the same source compiled again with
 * AN_KERNEL, where include/anode/kernel.h makes the helpers functions on BPF
 * maps, followed by AN_KERNEL_ENTRY(accept); made the program ready to load
 * and checked as the nodes check it (kobj_link), and added to the object as
 * AN_KERNEL_SECTION before it is named. 1 when added; 0 when the code cannot
 * run in the kernel (why in note); -1 on a failure of the tools.
 */
static int add_kernel_section(const char *src, const char *out, bool module, const char *const *flags, int n_flags,
			      const uint8_t *user, size_t user_len, char *note, size_t notelen)
{
	char accept[128], srcabs[PATH_MAX], stub[] = "/tmp/anode-kernel-XXXXXX.c", kobj[PATH_MAX];
	const char *entry_sec = module ? "packet" : "accept";
	if (entry_name(user, user_len, entry_sec, accept, sizeof(accept)) < 0) {
		snprintf(note, notelen, "no %s function found", entry_sec);
		return 0;
	}
	if (!realpath(src, srcabs)) {
		snprintf(note, notelen, "%s: %s", src, strerror(errno));
		return -1;
	}
	int fd = mkstemps(stub, 2);
	if (fd < 0) {
		snprintf(note, notelen, "cannot make a temporary file: %s", strerror(errno));
		return -1;
	}
	FILE *f = fdopen(fd, "w");
	fprintf(f, "#include \"%s\"\n%s(%s);\n", srcabs, module ? "AN_KERNEL_MODULE_ENTRY" : "AN_KERNEL_ENTRY",
		accept);
	fclose(f);
	snprintf(kobj, sizeof(kobj), "%s.kernel.o", out);
	const char *args[112];
	int n = 0;
	args[n++] = access(ANODE_CLANG, X_OK) == 0 ? ANODE_CLANG : "clang";
	for (int i = 1; i < n_flags; i++)
		args[n++] = flags[i];
	args[n++] = "-DAN_KERNEL";
	/* No common code sunk out of branches: clang would merge stores at
	 * different offsets into one through a pointer chosen per branch,
	 * which the verifier's Spectre rules refuse to a program loaded
	 * without CAP_PERFMON ("pointer arithmetic ... from different
	 * paths"). */
	args[n++] = "-mllvm";
	args[n++] = "-simplifycfg-sink-common=false";
	args[n++] = "-I" ANODE_MULTIARCH_INCLUDE;
	args[n++] = "-c";
	args[n++] = stub;
	args[n++] = "-o";
	args[n++] = kobj;
	args[n] = NULL;
	static char err[16384];
	int rc = spawn_run((char *const *)args, NULL, 0, err, sizeof(err));
	unlink(stub);
	if (rc != 0) {
		/* Its first error says what the kernel does not offer. */
		char *e = strstr(err, "error: ");
		char *nl = e ? strchr(e, '\n') : NULL;
		if (nl)
			*nl = '\0';
		snprintf(note, notelen, "%s", e ? e + 7 : "clang failed on the kernel build");
		unlink(kobj);
		return 0;
	}
	void *k;
	size_t klen;
	if (an_code_read_file(kobj, &k, &klen) < 0) {
		snprintf(note, notelen, "cannot read %s", kobj);
		unlink(kobj);
		return -1;
	}
	/* The section is the program ready to load (kobj.h), not the ELF
	 * object: the node reads no ELF beyond finding it. */
	uint8_t *blob;
	size_t blob_len;
	rc = kobj_link(k, klen, &blob, &blob_len, note, notelen);
	free(k);
	if (rc < 0) {
		unlink(kobj);
		return rc == -ENOMEM ? -1 : 0;
	}
	FILE *bf = fopen(kobj, "we");
	size_t n_insns = (blob_len - KOBJ_HDR_LEN) / 8;
	if (!bf || fwrite(blob, 1, blob_len, bf) != blob_len || fclose(bf) != 0) {
		snprintf(note, notelen, "cannot write %s", kobj);
		free(blob);
		unlink(kobj);
		return -1;
	}
	free(blob);
	char section[PATH_MAX + 32];
	snprintf(section, sizeof(section), "%s=%s", AN_KERNEL_SECTION, kobj);
	const char *oc[] = {access(ANODE_LLVM_OBJCOPY, X_OK) == 0 ? ANODE_LLVM_OBJCOPY : "llvm-objcopy", "--add-section",
			    section, out, NULL};
	rc = spawn_run((char *const *)oc, NULL, 0, err, sizeof(err));
	unlink(kobj);
	if (rc != 0) {
		snprintf(note, notelen, "llvm-objcopy failed: %s", err);
		return -1;
	}
	snprintf(note, notelen, "%zu instructions", n_insns);
	return 1;
}

static int code_build(int argc, char **argv)
{
	const char *src = NULL, *out = NULL;
	const char *extra[64];
	int n_extra = 0;
	bool verbose = false, kernel = true;
	const struct ee_kind *kind = &ee_kind_capsule;
	const char *label = NULL;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (strcmp(argv[i], "--label") == 0 && i + 1 < argc)
			label = argv[++i];
		else if (strcmp(argv[i], "--module") == 0)
			kind = &svc_kind_module;
		else if (strcmp(argv[i], "--probe") == 0)
			kind = &svc_kind_probe;
		else if (strcmp(argv[i], "--merge") == 0)
			kind = &concast_kind_merge;
		else if ((strcmp(argv[i], "-I") == 0 || strcmp(argv[i], "-D") == 0) && i + 1 < argc && n_extra < 62) {
			extra[n_extra++] = argv[i];
			extra[n_extra++] = argv[++i];
		} else if ((strncmp(argv[i], "-I", 2) == 0 || strncmp(argv[i], "-D", 2) == 0) && n_extra < 63)
			extra[n_extra++] = argv[i];
		else if (strcmp(argv[i], "-v") == 0)
			verbose = true;
		else if (strcmp(argv[i], "--no-kernel") == 0)
			kernel = false;
		else if (argv[i][0] != '-' && !src)
			src = argv[i];
		else {
			code_usage(stderr);
			return 2;
		}
	}
	if (!src) {
		code_usage(stderr);
		return 2;
	}
	char out_buf[PATH_MAX];
	if (!out) {
		size_t len = strlen(src);
		if (len > 2 && strcmp(src + len - 2, ".c") == 0)
			snprintf(out_buf, sizeof(out_buf), "%.*s.ao", (int)(len - 2), src);
		else
			snprintf(out_buf, sizeof(out_buf), "%s.ao", src);
		out = out_buf;
	}
	/* The label: given, or the source's file name without .c, made of
	 * what a node shows (anode/label.h). */
	char label_buf[EE_LABEL_MAX + 1], define[EE_LABEL_MAX + 32];
	if (label && !label_ok(label)) {
		fprintf(stderr, "anode code build: --label takes 1 to %d of A-Z a-z 0-9 . _ -, not '%s'\n",
			EE_LABEL_MAX, label);
		return 2;
	}
	if (!label) {
		const char *base = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
		size_t k = 0;
		for (; base[k] && k < EE_LABEL_MAX && strcmp(base + k, ".c") != 0; k++)
			label_buf[k] = label_char(base[k]) ? base[k] : '_';
		label_buf[k] = '\0';
		label = label_buf;
	}
	snprintf(define, sizeof(define), "-DAN_CODE_LABEL=\"%s\"", label);
	/* The same flags as meson's bpf_cc, so built and shipped code agree. */
	char inc[PATH_MAX + 2];
	snprintf(inc, sizeof(inc), "-I%s", include_dir());
	const char *args[96] = {"clang",	"-O2",	 "-target", "bpf",	  "-ffreestanding", "-fno-builtin",
				"-Wall",	"-Werror", inc,	    "-include", "anode/label.h",  define};
	int n = 12;
	for (int i = 0; i < n_extra; i++)
		args[n++] = extra[i];
	args[n++] = "-c";
	args[n++] = src;
	args[n++] = "-o";
	args[n++] = out;
	args[n] = NULL;
	/* The clang meson found, else the one on PATH. */
	static char err[16384];
	args[0] = access(ANODE_CLANG, X_OK) == 0 ? ANODE_CLANG : "clang";
	int rc = spawn_run((char *const *)args, NULL, 0, err, sizeof(err));
	if (rc != 0) {
		if (err[0])
			fprintf(stderr, "%s\n", err);
		if (rc < 0)
			fprintf(stderr, "anode code build: cannot run clang: %s\n", strerror(-rc));
		else
			fprintf(stderr, "anode code build: clang failed on %s\n", src);
		return 1;
	}
	void *code;
	size_t len;
	int r = an_code_read_file(out, &code, &len);
	if (r < 0) {
		fprintf(stderr, "anode code build: %s: %s\n", out, strerror(-r));
		return 1;
	}
	/* Capsule code gets a kernel section where it can run there. */
	char knote[512] = "";
	int kr = 0;
	bool has_kernel = kind == &ee_kind_capsule || kind == &svc_kind_module;
	if (kernel && has_kernel) {
		kr = add_kernel_section(src, out, kind == &svc_kind_module, args, n - 4, code, len, knote, sizeof(knote));
		if (kr < 0) {
			fprintf(stderr, "anode code build: kernel section: %s\n", knote);
			free(code);
			unlink(out);
			return 1;
		}
		free(code);
		if ((r = an_code_read_file(out, &code, &len)) < 0) {
			fprintf(stderr, "anode code build: %s: %s\n", out, strerror(-r));
			return 1;
		}
	}
	log_init("anode", verbose ? LOG_DEBUG : LOG_WARNING, false);
	char why[256];
	r = validate(code, len, kind, why, sizeof(why));
	uint8_t name[AN_NAME_LEN];
	an_code_name(code, len, name);
	free(code);
	if (r < 0) {
		fprintf(stderr, "anode code build: %s: refused: %s%s\n", out, why[0] ? why : strerror(-r),
			verbose ? "" : " (-v shows the validator's whole account)");
		unlink(out);
		return 1;
	}
	print_name(name);
	printf("  %s (%zu bytes)\n", out, len);
	if (kernel && has_kernel) {
		if (kr > 0)
			printf("  kernel section: %s\n", knote);
		else
			printf("  no kernel section (runs in user space only): %s\n", knote);
	}
	return 0;
}

int cmd_code(const char *node, int argc, char **argv)
{
	if (argc < 2) {
		code_usage(stderr);
		return 2;
	}
	const char *verb = argv[1];
	if (strcmp(verb, "-h") == 0 || strcmp(verb, "--help") == 0) {
		code_usage(stdout);
		return 0;
	}
	if (strcmp(verb, "build") == 0)
		return code_build(argc, argv);
	if (strcmp(verb, "name") == 0 && argc == 3) {
		void *code;
		size_t len;
		int r = an_code_read_file(argv[2], &code, &len);
		if (r < 0) {
			fprintf(stderr, "anode code name: %s: %s\n", argv[2], strerror(-r));
			return 1;
		}
		uint8_t name[AN_NAME_LEN];
		an_code_name(code, len, name);
		free(code);
		print_name(name);
		printf("  %s\n", argv[2]);
		return 0;
	}
	struct cli_node n;
	if (strcmp(verb, "insert") == 0 && argc == 3) {
		if (cli_node_find(node, &n) < 0)
			return 1;
		void *code;
		size_t len;
		int r = an_code_read_file(argv[2], &code, &len);
		if (r < 0) {
			fprintf(stderr, "anode code insert: %s: %s\n", argv[2], strerror(-r));
			return 1;
		}
		struct an_link *l = cli_link_open(&n);
		if (!l) {
			free(code);
			return 1;
		}
		uint8_t name[AN_NAME_LEN];
		r = an_code_insert(l, code, len, name);
		free(code);
		if (r < 0) {
			const char *why = an_link_refusal(l);
			fprintf(stderr, "anode code insert: node %s refused %s: %s\n", n.name, argv[2],
				why[0]	       ? why
				: r == -EINVAL ? "it fails validation"
				: r == -EPERM  ? "it is known to fail validation"
					       : strerror(-r));
			an_link_close(l);
			return 1;
		}
		an_link_close(l);
		print_name(name);
		printf("  inserted into %s\n", n.name);
		return 0;
	}
	if ((strcmp(verb, "list") == 0 && argc <= 3) || (strcmp(verb, "remove") == 0 && argc == 3)) {
		if (cli_node_find(node, &n) < 0)
			return 1;
		char cmd[128];
		if (strcmp(verb, "list") == 0)
			snprintf(cmd, sizeof(cmd), "code%s",
				 argc == 3 && strcmp(argv[2], "--json") == 0 ? " json" : "");
		else
			snprintf(cmd, sizeof(cmd), "code remove %.64s", argv[2]);
		char *body;
		if (cli_ctl(&n, cmd, &body) < 0)
			return 1;
		fputs(body, stdout);
		free(body);
		return 0;
	}
	code_usage(stderr);
	return 2;
}
