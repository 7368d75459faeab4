/* Test helper: binds a TCP socket to 127.0.0.1:PORT (default 80) and exits 0
 * on success, 1 with the errno name otherwise. Used to show that file
 * capabilities from a generated setcap line let a non-root user do it. */
#define _GNU_SOURCE 1
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 80;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a;
	int one = 1;

	if (fd < 0) {
		perror("socket");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		printf("bind %d: %s\n", port, strerrorname_np(errno) ? strerrorname_np(errno) : strerror(errno));
		return 1;
	}
	printf("bound %d as uid %d\n", port, (int)getuid());
	close(fd);
	return 0;
}
