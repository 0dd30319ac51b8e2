#!/bin/sh
# The request body is on stdin; what this prints is the response.
cat
