test -f hint-copy.txt && curl -s http://127.0.0.1:8123/ | tr a-zA-Z n-za-mN-ZA-M
