"""TTS fronting Baidu, Ali and Huawei: one engine, one module per vendor."""
