/*
 * communityid: prints the Community ID of each flow tuple read from
 * standard input, one per line: "PROTO SADDR DADDR SPORT DPORT" (ports
 * "-" for port-less protocols).  Arguments: SEED (default 0) and "nob64"
 * for the hex form.  Used by tests/t_communityid.sh against the
 * specification's baseline.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "communityid.h"

int main(int argc, char **argv)
{
	unsigned long seed = argc > 1 ? strtoul(argv[1], NULL, 10) : 0;
	int b64 = !(argc > 2 && !strcmp(argv[2], "nob64"));
	char line[512];

	while (fgets(line, sizeof(line), stdin)) {
		char sa[64], da[64], sp[16], dp[16], out[64];
		unsigned proto;
		uint8_t a[16] = { 0 }, b[16] = { 0 };
		int fam, ports;

		if (sscanf(line, "%u %63s %63s %15s %15s", &proto, sa, da, sp,
			   dp) != 5) {
			fprintf(stderr, "communityid: bad line: %s", line);
			return 2;
		}
		fam = strchr(sa, ':') ? 6 : 4;
		if (inet_pton(fam == 6 ? AF_INET6 : AF_INET, sa, a) != 1 ||
		    inet_pton(fam == 6 ? AF_INET6 : AF_INET, da, b) != 1) {
			fprintf(stderr, "communityid: bad address: %s", line);
			return 2;
		}
		ports = strcmp(sp, "-") != 0;
		communityid_v1((uint16_t)seed, (uint8_t)fam, a, b, (uint8_t)proto,
			       ports, ports ? (uint16_t)atoi(sp) : 0,
			       ports ? (uint16_t)atoi(dp) : 0, b64, out,
			       sizeof(out));
		printf("%s\n", out);
	}
	return 0;
}
