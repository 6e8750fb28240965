/* SPDX-License-Identifier: MIT */
/*
 * G.711 μ-law (ITU-T G.711, the 8-bit telephone code the concast audio
 * mixer of seed 001 §5 mixes): one octet per sample, a sign, a 3-bit
 * segment and a 4-bit step inside the segment, every bit inverted. Linear
 * samples here are 16-bit (the 14-bit G.711 range shifted left by 2), as
 * sox reads them, so that a mix made here matches `sox -m`.
 */
#ifndef CORE_G711_H
#define CORE_G711_H

#include <stdint.h>

/* The linear value of a μ-law octet: -32124..32124. */
int16_t g711_ulaw_decode(uint8_t u);
/* The μ-law octet nearest below a linear sample (clipped to the code's
 * range first). */
uint8_t g711_ulaw_encode(int32_t pcm);

#endif
