/* SPDX-License-Identifier: MIT */
/*
 * A code object's label: a name for people, beside the SHA-256 that names
 * it for the network. `anode code build` compiles every code object with
 * `-include anode/label.h -DAN_CODE_LABEL="NAME"` (NAME: --label, or the
 * source file's name without .c), which puts NAME in the object's section
 * .anode.label; a node shows it beside the hash in `anode code list`. The
 * label is part of the bytes, so it is part of the hash: two builds with
 * different labels are two code objects. A node takes 1 to 32 characters
 * of [A-Za-z0-9._-] and ignores anything else there (src/ee/objcheck.c).
 */
#ifndef ANODE_LABEL_H
#define ANODE_LABEL_H

#ifdef AN_CODE_LABEL
__attribute__((section(".anode.label"), used)) static const char an_code_label[] = AN_CODE_LABEL;
#endif

#endif
