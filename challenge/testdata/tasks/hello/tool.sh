#!/bin/sh
base64 -d "$1"
