# Image for the ioc services in docker-compose.yml (consumers, alert engine, web, simulator).
FROM python:3.11-slim-bookworm
WORKDIR /app
COPY pyproject.toml README.md ./
COPY ioc ioc
COPY streams streams
COPY layers layers
COPY alerts alerts
COPY geodata geodata
COPY simulators simulators
RUN pip install --no-cache-dir . gunicorn
RUN useradd --system --create-home ioc
USER ioc
ENV IOC_DATA_DIR=/home/ioc/data
EXPOSE 8050
CMD ["ioc", "--help"]
