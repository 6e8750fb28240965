/* SPDX-License-Identifier: MIT */
/* The hostile child hook (hostile_child.c), for anoded-hostile only. */
#ifndef TESTS_PRIV_HOSTILE_H
#define TESTS_PRIV_HOSTILE_H

struct node;

/* A second from now, attack as ANODE_HOSTILE_ATTACK says. */
void priv_hostile_arm(struct node *n);

#endif
