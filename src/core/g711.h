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

/*
 * Written from the standard's description: a sample's magnitude plus a
 * bias of 0x84 is a number whose highest set bit (above bit 7) gives the
 * segment and whose next four bits give the step; the octet is sign,
 * segment and step, inverted. Inline: the mixer's helpers call these once
 * per sample, and a call cost more than the work (bench/helper_cost.c).
 */
#define G711_ULAW_BIAS 0x84
#define G711_ULAW_CLIP 32635 /* the largest magnitude that biased still fits in 15 bits */

/* The linear value of a μ-law octet: -32124..32124. */
static inline int16_t g711_ulaw_decode(uint8_t u)
{
	u = (uint8_t)~u;
	int step = u & 0x0f;
	int seg = (u >> 4) & 0x07;
	int mag = (((step << 3) + G711_ULAW_BIAS) << seg) - G711_ULAW_BIAS;
	return (int16_t)((u & 0x80) ? -mag : mag);
}

/* The μ-law octet nearest below a linear sample (clipped to the code's
 * range first, so any int32_t is a sample). */
static inline uint8_t g711_ulaw_encode(int32_t pcm)
{
	uint8_t sign = 0;
	if (pcm < 0) {
		pcm = pcm < -G711_ULAW_CLIP ? G711_ULAW_CLIP : -pcm;
		sign = 0x80;
	}
	if (pcm > G711_ULAW_CLIP)
		pcm = G711_ULAW_CLIP;
	pcm += G711_ULAW_BIAS;
	/* The segment: where the highest set bit is, from bit 7 (segment 0)
	 * to bit 14 (segment 7). */
	int seg = pcm >> 8 ? 32 - __builtin_clz((unsigned)pcm >> 8) : 0;
	uint8_t step = (uint8_t)((pcm >> (seg + 3)) & 0x0f);
	return (uint8_t) ~(sign | (seg << 4) | step);
}

#endif
