# The Danbyte image for compose.yaml: `danbyte serve`, `danbyte worker`, `danbyte migrate`.
FROM python:3.11-slim

# ezsnmp builds against net-snmp; ping checks need the capability to open ICMP sockets.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential libsnmp-dev snmp \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY . .
# Editable: the migrations (alembic/, alembic.ini) are read from the source tree.
RUN pip install --no-cache-dir -e . \
    && useradd --system --home-dir /var/lib/danbyte --create-home danbyte
USER danbyte
EXPOSE 8000
CMD ["danbyte", "serve", "--no-worker"]
