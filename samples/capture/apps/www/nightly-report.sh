#!/bin/sh
# The web application's nightly report (a cron job of user webapp): one mail per recipient,
# handed to Postfix with sendmail(1). Arguments: TAG:RECIPIENT ... (TAG is the ground-truth
# marker in the body; no log shows it). Prints "submit TAG UNIXTIME" before each submission.
for item in "$@"; do
    tag=${item%%:*} to=${item#*:}
    echo "submit $tag $(date +%s.%N)"
    printf 'From: webapp@vps01.example.net\nTo: %s\nSubject: Nightly report\n\nOrders today: 17\nsample: %s\n' "$to" "$tag" |
        /usr/sbin/sendmail -t -i
    sleep 1
done
