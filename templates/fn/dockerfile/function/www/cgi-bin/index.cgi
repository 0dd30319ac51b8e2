#!/bin/sh
# busybox httpd runs this for "/" (there is no index.html): the body back.
printf 'Content-Type: text/plain\r\n\r\n'
if [ -n "$CONTENT_LENGTH" ]; then head -c "$CONTENT_LENGTH"; fi
