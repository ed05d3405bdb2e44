/*
 * main: portclass-nfq's entry point - the command line; the set-up, the
 * control loop and the shutdown are daemon.c's.  Nothing else is exported;
 * this header only records the defaults the man page documents.
 */
#ifndef PORTCLASS_NFQ_MAIN_H
#define PORTCLASS_NFQ_MAIN_H

#define MAIN_DEFAULT_REJECT_MARK 0x70c1a55u
/* Whole packets: only NEW packets are queued, so copying more costs little,
 * and no chain of IPv6 extension headers can push the transport header out
 * of reach.  The least accepted is what the longest IPv4 + TCP headers
 * need (60 + 60). */
#define MAIN_DEFAULT_COPY_RANGE 65535u
#define MAIN_MIN_COPY_RANGE 120u
#define MAIN_DEFAULT_QUEUE_MAXLEN 4096u
#define MAIN_DEFAULT_RCVBUF (8 * 1024 * 1024)
#define MAIN_DEFAULT_LOG_RATE 20u
#define MAIN_DEFAULT_STATS_INTERVAL 5u
#define MAIN_DEFAULT_REFRESH_MS 200u
#define MAIN_DEFAULT_LISTENER_MAX_AGE_MS 10000u
#define MAIN_DEFAULT_MAX_FLOWS 65536u
#define MAIN_DEFAULT_RULES "/etc/portclass/rules.conf"

#endif
