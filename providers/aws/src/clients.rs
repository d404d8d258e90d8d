//! One SDK client per AWS service, built from one shared SDK configuration.

use aws_types::SdkConfig;

/// The clients of one configured provider (one region, one set of credentials).
#[derive(Clone, Debug)]
pub struct Clients {
    pub region: String,
    pub ec2: aws_sdk_ec2::Client,
    pub iam: aws_sdk_iam::Client,
    pub s3: aws_sdk_s3::Client,
    pub kms: aws_sdk_kms::Client,
    pub eks: aws_sdk_eks::Client,
    pub fsx: aws_sdk_fsx::Client,
    pub efs: aws_sdk_efs::Client,
    pub sagemaker: aws_sdk_sagemaker::Client,
    pub sts: aws_sdk_sts::Client,
    pub quotas: aws_sdk_servicequotas::Client,
}

impl Clients {
    /// Clients sharing `config`; S3 uses path-style addressing when asked (needed for
    /// endpoints such as IP addresses, where bucket subdomains cannot resolve).
    pub fn new(config: &SdkConfig, region: String, s3_path_style: bool) -> Clients {
        let s3_config = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(s3_path_style)
            .build();
        Clients {
            region,
            ec2: aws_sdk_ec2::Client::new(config),
            iam: aws_sdk_iam::Client::new(config),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            kms: aws_sdk_kms::Client::new(config),
            eks: aws_sdk_eks::Client::new(config),
            fsx: aws_sdk_fsx::Client::new(config),
            efs: aws_sdk_efs::Client::new(config),
            sagemaker: aws_sdk_sagemaker::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
            quotas: aws_sdk_servicequotas::Client::new(config),
        }
    }
}
