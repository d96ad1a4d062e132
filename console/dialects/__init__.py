"""The vendors' own API dialects at `/` of the host: Tencent Cloud API 3.0 (VOD 2018-07-17),
Alibaba RPC and ACS3 (VOD 2017-03-21, Multimedia AI 2019-08-10). Each dialect verifies the
vendor's signature with an access key, then translates the call into media_jobs.commands and the
answer (or the LoopdeckError) into the vendor's shape. No rule lives here."""
