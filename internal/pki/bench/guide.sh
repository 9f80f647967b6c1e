#!/bin/sh
# The seed guide's certificate steps (shared/seed/000_474e284602068884.txt,
# "生成证书"), verbatim but for the heredocs: ten cfssl CLI calls, each making
# one RSA-2048 key and certificate. Run in an empty folder with cfssl and
# cfssljson on PATH; bench-pki times it.
set -e

cat > ca-config.json <<'JSON'
{
    "signing": {
        "default": {
            "expiry": "87600h"
        },
        "profiles": {
            "server": {
                "expiry": "87600h",
                "usages": [
                    "signing",
                    "key encipherment",
                    "server auth"
                ]
            },
            "client": {
                "expiry": "87600h",
                "usages": [
                    "signing",
                    "key encipherment",
                    "client auth"
                ]
            },
            "peer": {
                "expiry": "87600h",
                "usages": [
                    "signing",
                    "key encipherment",
                    "server auth",
                    "client auth"
                ]
            }
        }
    }
}
JSON
cat > ca-csr.json <<'JSON'
{
    "CN": "kubernetes",
    "key": {
        "algo": "rsa",
        "size": 2048
    },
    "names": [
        {
            "O": "KUBERNETES"
        }
    ]
}
JSON
cat > server.json <<'JSON'
{
    "CN": "server",
    "hosts": [
        "etcd",
        "127.0.0.1",
        "10.22.108.20",
        "10.22.108.79",
        "10.22.108.92"
    ],
    "key": {
        "algo": "rsa",
        "size": 2048
    },
    "names": [
        {
            "O": "ETCD"
        }
    ]
}
JSON
cat > client.json <<'JSON'
{
    "CN": "client",
    "hosts": [
        ""
    ],
    "key": {
        "algo": "rsa",
        "size": 2048
    },
    "names": [
        {
            "O": "ETCD"
        }
    ]
}
JSON
cat > kube-apiserver.json <<'JSON'
{
    "CN": "kube-apiserver",
    "hosts": [
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        "127.0.0.1",
        "10.101.66.1",
        "10.22.108.20",
        "10.22.108.79",
        "10.22.108.92",
        "10.22.108.250"
    ],
    "key": {
        "algo": "rsa",
        "size": 2048
    },
    "names": [
        {
            "O": "system:kube-apiserver"
        }
    ]
}
JSON
cat > kube-proxy.json <<'JSON'
{
    "CN": "system:kube-proxy",
    "hosts": [
    ],
    "key": {
        "algo": "rsa",
        "size": 2048
    },
    "names": [
        {
            "O": "KUBERNETES"
        }
    ]
}
JSON
cat > kube-master.json <<'JSON'
{
    "CN": "kube-master",
    "hosts": [
        ""
    ],
    "key": {
        "algo": "rsa",
        "size": 2048
    },
    "names": [
        {
            "O": "system:masters"
        }
    ]
}
JSON
cat > flannel.json <<'JSON'
{
    "CN": "flannel",
    "hosts": [
        ""
    ],
    "key": {
        "algo": "rsa",
        "size": 2048
    },
    "names": [
        {
            "O": "ETCD"
        }
    ]
}
JSON

# 1. the CA
cfssl gencert -initca ca-csr.json | cfssljson -bare ca -
# 2. etcd server
cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=server server.json | cfssljson -bare server
# 3-5. one etcd peer certificate per member
index=0
for SERVER in "10.22.108.20" "10.22.108.79" "10.22.108.92"
do
cat <<JSON | cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=peer - | cfssljson -bare server${index}
{
    "CN": "infra${index}",
    "hosts": [
        "etcd",
        "$SERVER",
        "127.0.0.1"
    ],
    "key": {
        "algo": "rsa",
        "size": 2048
    },
    "names": [
        {
            "O": "ETCD"
        }
    ]
}
JSON
index=`expr $index + 1`
done
# 6. etcd client
cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=client client.json | cfssljson -bare client
# 7. kube-apiserver
cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=server kube-apiserver.json | \
    cfssljson -bare apiserver
# 8. kube-proxy
cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=client kube-proxy.json | cfssljson -bare proxy
# 9. kube-master (admin)
cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=client kube-master.json | cfssljson -bare master
# 10. flannel
cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=client flannel.json | cfssljson -bare flannel
