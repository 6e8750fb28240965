// SPDX-License-Identifier: MIT
/*
 * G.711 μ-law, written from the standard's description: a sample's
 * magnitude plus a bias of 0x84 is a number whose highest set bit (above
 * bit 7) gives the segment and whose next four bits give the step; the
 * octet is sign, segment and step, inverted.
 */
#include "core/g711.h"

#define ULAW_BIAS 0x84
#define ULAW_CLIP 32635 /* the largest magnitude that biased still fits in 15 bits */

int16_t g711_ulaw_decode(uint8_t u)
{
	u = (uint8_t)~u;
	int step = u & 0x0f;
	int seg = (u >> 4) & 0x07;
	int mag = (((step << 3) + ULAW_BIAS) << seg) - ULAW_BIAS;
	return (int16_t)((u & 0x80) ? -mag : mag);
}

uint8_t g711_ulaw_encode(int32_t pcm)
{
	uint8_t sign = 0;
	if (pcm < 0) {
		pcm = -pcm;
		sign = 0x80;
	}
	if (pcm > ULAW_CLIP)
		pcm = ULAW_CLIP;
	pcm += ULAW_BIAS;
	/* The segment: where the highest set bit is, from bit 7 (segment 0)
	 * to bit 14 (segment 7). */
	int seg = 0;
	for (int v = pcm >> 8; v; v >>= 1)
		seg++;
	uint8_t step = (uint8_t)((pcm >> (seg + 3)) & 0x0f);
	return (uint8_t)~(sign | (seg << 4) | step);
}
